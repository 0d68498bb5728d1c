//! Fault injection for client tests: make the next requests matching a method and path prefix
//! fail in a chosen way (an error status, a dropped connection before or after processing, a
//! redirect, a delay). Off until a fault is injected.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What an injected fault does to a matching request.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger_sandbox::FaultAction;
///
/// let throttled = FaultAction::status(429).retry_after(Duration::from_secs(1));
/// let moved = FaultAction::redirect("https://localhost:8443");
/// assert!(matches!(moved, FaultAction::Redirect { status: 307, .. }));
/// # let _ = throttled;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer `status` with the service's error body (`{"error": {"code", "message"}}`) without
    /// processing the request.
    Status {
        /// HTTP status code.
        status: u16,
        /// Error code in the body; `None` picks one from the status (`ServiceUnavailable`,
        /// `TooManyRequests`, ...).
        code: Option<String>,
        /// Sent as `Retry-After` (whole seconds, rounded up).
        retry_after: Option<Duration>,
    },
    /// Close the connection without processing the request or answering.
    DropBeforeProcessing,
    /// Process the request (a write is applied and durable), then close the connection
    /// without answering.
    DropAfterProcessing,
    /// Answer with a redirect to `location` without processing. When `location` is an origin
    /// only (`https://host:port`), the request's path and query are appended.
    Redirect {
        /// 307 or 308.
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// Wait, then process normally.
    Delay(Duration),
}

impl FaultAction {
    /// An error answer with `status` and no `Retry-After`.
    pub fn status(status: u16) -> Self {
        FaultAction::Status {
            status,
            code: None,
            retry_after: None,
        }
    }

    /// The same error answer with `Retry-After`; unchanged for other actions.
    #[must_use]
    pub fn retry_after(self, after: Duration) -> Self {
        match self {
            FaultAction::Status { status, code, .. } => FaultAction::Status {
                status,
                code,
                retry_after: Some(after),
            },
            other => other,
        }
    }

    /// The same error answer with a specific error code; unchanged for other actions.
    #[must_use]
    pub fn code(self, code: impl Into<String>) -> Self {
        match self {
            FaultAction::Status {
                status,
                retry_after,
                ..
            } => FaultAction::Status {
                status,
                code: Some(code.into()),
                retry_after,
            },
            other => other,
        }
    }

    /// A `307 Temporary Redirect` to `location`.
    pub fn redirect(location: impl Into<String>) -> Self {
        FaultAction::Redirect {
            status: 307,
            location: location.into(),
        }
    }
}

#[derive(Debug)]
struct Rule {
    method: String,
    path_prefix: String,
    remaining: u32,
    action: FaultAction,
}

/// The fault injector of a running sandbox ([`Sandbox::faults`](crate::Sandbox::faults)).
///
/// Rules are checked in the order they were added; each matching request uses up one of the
/// first matching rule's remaining count.
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::{FaultAction, Faults};
///
/// let faults = Faults::default();
/// faults.inject("POST", "/app/transactions", 2, FaultAction::status(503));
/// assert_eq!(faults.remaining(), 2);
/// assert_eq!(faults.injected(), 0);
/// faults.clear();
/// assert_eq!(faults.remaining(), 0);
/// ```
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Rule>>,
    injected: AtomicU64,
}

impl Faults {
    /// Makes the next `times` requests whose method is `method` (`"*"` for any) and whose path
    /// starts with `path_prefix` suffer `action`.
    pub fn inject(&self, method: &str, path_prefix: &str, times: u32, action: FaultAction) {
        if times == 0 {
            return;
        }
        self.lock().push(Rule {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            remaining: times,
            action,
        });
    }

    /// Number of faults injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    /// Number of faults still to be injected.
    pub fn remaining(&self) -> u32 {
        self.lock().iter().map(|r| r.remaining).sum()
    }

    /// Removes every pending fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Rule>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fault for a request, if one is due (and counts it).
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut rules = self.lock();
        let i = rules.iter().position(|r| {
            (r.method == "*" || r.method == method) && path.starts_with(&r.path_prefix)
        })?;
        let action = rules[i].action.clone();
        rules[i].remaining -= 1;
        if rules[i].remaining == 0 {
            rules.remove(i);
        }
        self.injected.fetch_add(1, Ordering::SeqCst);
        Some(action)
    }
}

/// The error code a fault answers with for `status`.
pub(crate) fn default_code(status: u16) -> &'static str {
    match status {
        408 => "RequestTimeout",
        429 => "TooManyRequests",
        500 => "InternalError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        404 => "NotFound",
        _ => "InjectedFault",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_and_expire() {
        let f = Faults::default();
        f.inject("post", "/app/transactions", 2, FaultAction::status(503));
        f.inject("*", "/app", 1, FaultAction::DropBeforeProcessing);
        assert_eq!(
            f.take("GET", "/app/transactions"),
            Some(FaultAction::DropBeforeProcessing)
        );
        assert_eq!(f.take("GET", "/app/transactions"), None);
        assert!(f.take("POST", "/app/transactions").is_some());
        assert!(f.take("POST", "/app/transactions?x").is_some());
        assert_eq!(f.take("POST", "/app/transactions"), None);
        assert_eq!(f.injected(), 3);
    }
}

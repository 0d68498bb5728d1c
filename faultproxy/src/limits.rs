//! Bounds on a proxy's run: how long it lives, how many faults it injects, how long it waits.

use std::time::Duration;

/// Bounds every proxy run respects, so a test cannot hang or fault forever.
///
/// # Defaults
///
/// - `lifetime` 300 s: then the proxy stops accepting, resets every open connection, and
///   [`FaultProxy::stopped`](crate::FaultProxy::stopped) resolves.
/// - `max_faults` 10,000: once injected, further faults the plan chooses are skipped (counted
///   as [`over_budget`](crate::ProxyStats::over_budget)) and requests pass through.
/// - `max_delay` 10 s: plans with a longer [`Fault::Delay`](crate::Fault::Delay) or
///   [`Fault::HoldAfterForward`](crate::Fault::HoldAfterForward) are refused.
/// - `max_body_bytes` 16 MiB: larger requests or answers reset the client's connection.
/// - `upstream_timeout` 30 s: connecting to the upstream, sending the request and reading the
///   whole answer; when exceeded, the client's connection is reset (the outcome is unknown, as
///   for a real gateway timeout on a dropped connection).
/// - `max_events` 100,000: the event log keeps the first ones and counts the rest.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use faultproxy::Limits;
///
/// let limits = Limits { lifetime: Duration::from_secs(60), max_faults: 500, ..Limits::default() };
/// assert_eq!(limits.max_delay, Duration::from_secs(10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long the proxy runs at most.
    pub lifetime: Duration,
    /// How many faults it injects at most over its run (across plan changes).
    pub max_faults: u64,
    /// The longest delay (or hold after forwarding) a plan may ask for.
    pub max_delay: Duration,
    /// The largest request or response body relayed.
    pub max_body_bytes: usize,
    /// The longest wait for the upstream (connect, send, whole answer).
    pub upstream_timeout: Duration,
    /// The number of events logged.
    pub max_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            lifetime: Duration::from_secs(300),
            max_faults: 10_000,
            max_delay: Duration::from_secs(10),
            max_body_bytes: 16 << 20,
            upstream_timeout: Duration::from_secs(30),
            max_events: 100_000,
        }
    }
}

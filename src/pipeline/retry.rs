//! When to try a request again, and how long to wait first.
//!
//! # Policy
//!
//! - **Retried**: the statuses 408, 429, 500, 502, 503 and 504, connection failures and
//!   timeouts, up to [`RetryOptions::max_retries`] times.
//! - **Writes that are not idempotent** (`POST`: appending an entry, running a function) are
//!   retried only when the ledger provably did not process them: the connection could not be
//!   made, so nothing was sent. (A `307`/`308` redirect, which the ledger answers without
//!   processing the write, is followed by the [`redirect`](super::redirect) loop, not retried.)
//!   Every other transient failure leaves the write possibly applied: `429` and `503` included,
//!   since "a write answered 503 was not applied" is an assumption about the server, not a
//!   proof (a sandbox whose disk filled answered `503` for writes that stayed in its log). Such
//!   a write fails at once with [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown), carrying
//!   the cause, the status and any `Retry-After`, and is never sent twice by the pipeline. The
//!   client's exactly-once write mode ([`WriteMode::ExactlyOnce`](crate::options::WriteMode)) resolves
//!   such outcomes itself, by looking the write up before it resends.
//!   Rejections (`400`, `401`, `403`, `404`, `409`, `413`...) stay what they are: the ledger
//!   refused the write.
//! - **Waiting**: what the ledger asked for (`retry-after-ms`, `x-ms-retry-after-ms`, or
//!   `Retry-After` in seconds or as an HTTP-date), when it said; otherwise exponential backoff
//!   with full jitter: a uniformly random wait between zero and
//!   `min(max_delay, initial_delay × 2^(retry − 1))`. A requested wait longer than
//!   [`RetryOptions::max_retry_after`] ends the retries: the error carries the wait
//!   ([`Error::retry_after`](crate::Error::retry_after)) so the caller can decide.
//! - Everything else (4xx answers other than 408/429, TLS and pin failures, refused redirects,
//!   credential failures) is returned at once.
//!
//! Waiting goes through a [`Timer`] and the random part through a [`Jitter`], both replaceable
//! (see [`PipelineBuilder`](super::PipelineBuilder)) so that a schedule can be tested without
//! waiting.

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::{Error, ErrorKind};

/// How the pipeline retries transient failures; see the [module documentation](self).
///
/// # Defaults
///
/// 3 retries, first backoff cap 800 ms, doubling up to 30 s; waits requested by the ledger are
/// honoured up to 60 s.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::pipeline::RetryOptions;
///
/// let mut retry = RetryOptions::default();
/// retry.max_retries = 5;
/// retry.max_delay = Duration::from_secs(10);
/// assert!(retry.is_enabled());
/// assert!(!RetryOptions::disabled().is_enabled());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryOptions {
    /// How many times a request is tried again after its first attempt (0: never).
    pub max_retries: u32,
    /// The backoff cap for the first retry; it doubles for every further retry.
    pub initial_delay: Duration,
    /// The largest backoff cap.
    pub max_delay: Duration,
    /// The longest wait requested by the ledger that the pipeline sits out; a longer one ends
    /// the retries.
    pub max_retry_after: Duration,
}

impl Default for RetryOptions {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryOptions {
    /// No retries at all: every request is sent once.
    pub fn disabled() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// True unless [`max_retries`](Self::max_retries) is 0.
    pub fn is_enabled(&self) -> bool {
        self.max_retries > 0
    }

    /// The backoff cap before retry number `retry` (from 1):
    /// `min(max_delay, initial_delay × 2^(retry − 1))`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use confidential_ledger::pipeline::RetryOptions;
    ///
    /// let retry = RetryOptions::default();
    /// assert_eq!(retry.backoff_cap(1), Duration::from_millis(800));
    /// assert_eq!(retry.backoff_cap(3), Duration::from_millis(3200));
    /// assert_eq!(retry.backoff_cap(50), Duration::from_secs(30));
    /// ```
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.initial_delay
            .saturating_mul(factor)
            .min(self.max_delay)
    }
}

/// Waits, and tells the time. The pipeline sleeps between retries through it and reads
/// `Retry-After` dates against it.
///
/// The default, [`TokioTimer`], uses tokio's timer and the system clock. Replace it to test a
/// retry schedule without waiting, or to run on another executor.
///
/// # Examples
///
/// A timer that records the waits instead of sleeping:
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use confidential_ledger::pipeline::Timer;
///
/// #[derive(Debug, Default)]
/// struct Recording(Mutex<Vec<Duration>>);
///
/// impl Timer for Recording {
///     fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
///         self.0.lock().unwrap().push(duration);
///         Box::pin(std::future::ready(()))
///     }
/// }
/// ```
pub trait Timer: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;

    /// The current time (the system clock by default).
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The default [`Timer`]: `tokio::time::sleep` and the system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Picks the actual wait below a backoff cap.
///
/// The default, [`FullJitter`], picks uniformly at random, so that many clients failing
/// together do not retry together.
pub trait Jitter: Send + Sync + fmt::Debug {
    /// A wait between zero and `cap`, inclusive.
    fn pick(&self, cap: Duration) -> Duration;
}

/// The default [`Jitter`]: uniformly random between zero and the cap ("full jitter").
///
/// Randomness comes from the standard library's per-process random hashing keys; it needs no
/// cryptographic quality.
#[derive(Debug, Default)]
pub struct FullJitter {
    keys: RandomState,
    counter: AtomicU64,
}

impl Jitter for FullJitter {
    fn pick(&self, cap: Duration) -> Duration {
        let mut hasher = self.keys.build_hasher();
        hasher.write_u64(self.counter.fetch_add(1, Ordering::Relaxed));
        let random = u128::from(hasher.finish());
        let nanos = random % (cap.as_nanos().saturating_add(1));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)).min(cap)
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryDecision {
    /// Safe to send again (if the budget allows).
    Retry,
    /// Return the error as it is.
    Fail,
    /// A non-idempotent request may have been processed: fail with
    /// [`OutcomeUnknown`](ErrorKind::OutcomeUnknown).
    OutcomeUnknown,
}

/// Judges a failed attempt; `non_idempotent` for requests that must not be applied twice.
pub(crate) fn judge(err: &Error, non_idempotent: bool) -> RetryDecision {
    let transient = match err.kind() {
        // A write rolled back before its commit was not applied: the error says so, and the
        // caller (or exactly-once mode) writes it again. Not an ambiguous 503.
        ErrorKind::TransactionRolledBack => false,
        ErrorKind::Throttled { .. } | ErrorKind::Transport | ErrorKind::Timeout => true,
        ErrorKind::Service { status, .. } => matches!(status.as_u16(), 408 | 500 | 502 | 503 | 504),
        _ => false,
    };
    if !transient {
        return RetryDecision::Fail;
    }
    if !non_idempotent {
        return RetryDecision::Retry;
    }
    // Only a connection that was never made proves that nothing was sent; a 429 or a 503 is the
    // server's word, which a failing server can break.
    if err.is_connect() {
        RetryDecision::Retry
    } else {
        RetryDecision::OutcomeUnknown
    }
}

/// Completes "the outcome is unknown: ..." for an error judged
/// [`RetryDecision::OutcomeUnknown`].
pub(crate) fn why_unknown(err: &Error) -> String {
    match (err.kind(), err.status()) {
        (_, Some(status)) if status.is_success() => format!(
            "the ledger answered HTTP {status}, then the connection broke while its body was \
             read (the write's transaction id, if the ledger sent one, is kept)"
        ),
        (_, Some(status)) => {
            format!("the ledger answered HTTP {status} after receiving the request")
        }
        (ErrorKind::Timeout, None) => "the request timed out after it was sent".to_owned(),
        _ => "the connection failed after the request was sent".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn status(code: u16) -> Error {
        Error::from_parts(StatusCode::from_u16(code).unwrap(), &HeaderMap::new(), b"")
    }

    fn transport(connect: bool) -> Error {
        Error::new(ErrorKind::Transport, "x").with_connect(connect)
    }

    #[test]
    fn idempotent_requests_retry_every_transient_failure() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert_eq!(judge(&status(code), false), RetryDecision::Retry, "{code}");
        }
        assert_eq!(judge(&transport(false), false), RetryDecision::Retry);
        assert_eq!(judge(&transport(true), false), RetryDecision::Retry);
        assert_eq!(
            judge(&Error::new(ErrorKind::Timeout, "t"), false),
            RetryDecision::Retry
        );
        for code in [400, 401, 403, 404, 409, 501] {
            assert_eq!(judge(&status(code), false), RetryDecision::Fail, "{code}");
        }
        assert_eq!(
            judge(&Error::invalid_input("x"), false),
            RetryDecision::Fail
        );
        assert_eq!(
            judge(&Error::redirect_refused("http://x", "no"), false),
            RetryDecision::Fail
        );
    }

    #[test]
    fn a_rolled_back_write_fails_as_not_applied() {
        let body = br#"{"error": {"code": "TransactionRolledBack", "message": "rolled back"}}"#;
        let err = Error::from_parts(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), body);
        assert_eq!(judge(&err, true), RetryDecision::Fail);
        assert_eq!(judge(&err, false), RetryDecision::Fail);
    }

    #[test]
    fn writes_retry_only_when_provably_not_processed() {
        assert_eq!(judge(&transport(true), true), RetryDecision::Retry);
        let connect_timeout = Error::new(ErrorKind::Timeout, "t").with_connect(true);
        assert_eq!(judge(&connect_timeout, true), RetryDecision::Retry);
        // 429 and 503 are the server's word, not a proof.
        for code in [408, 429, 500, 502, 503, 504] {
            assert_eq!(
                judge(&status(code), true),
                RetryDecision::OutcomeUnknown,
                "{code}"
            );
        }
        assert_eq!(
            judge(&transport(false), true),
            RetryDecision::OutcomeUnknown
        );
        assert_eq!(
            judge(&Error::new(ErrorKind::Timeout, "t"), true),
            RetryDecision::OutcomeUnknown
        );
        // A definite refusal is not an unknown outcome.
        assert_eq!(judge(&status(400), true), RetryDecision::Fail);
        assert_eq!(judge(&status(403), true), RetryDecision::Fail);
    }

    #[test]
    fn unknown_outcomes_say_what_happened() {
        assert_eq!(
            why_unknown(&status(500)),
            "the ledger answered HTTP 500 Internal Server Error after receiving the request"
        );
        assert_eq!(
            why_unknown(&Error::new(ErrorKind::Timeout, "t")),
            "the request timed out after it was sent"
        );
        assert_eq!(
            why_unknown(&transport(false)),
            "the connection failed after the request was sent"
        );
    }

    #[test]
    fn backoff_caps_double_up_to_the_maximum() {
        let retry = RetryOptions {
            max_retries: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(60),
        };
        let caps: Vec<u128> = (1..=6).map(|n| retry.backoff_cap(n).as_millis()).collect();
        assert_eq!(caps, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(retry.backoff_cap(u32::MAX), Duration::from_secs(1));
        assert_eq!(retry.backoff_cap(0), Duration::from_millis(100));
    }

    #[test]
    fn full_jitter_stays_within_the_cap_and_varies() {
        let jitter = FullJitter::default();
        let cap = Duration::from_millis(500);
        let picks: Vec<Duration> = (0..200).map(|_| jitter.pick(cap)).collect();
        assert!(picks.iter().all(|p| *p <= cap));
        let distinct: std::collections::HashSet<_> = picks.iter().collect();
        assert!(distinct.len() > 150, "{} distinct picks", distinct.len());
        assert!(picks.iter().any(|p| *p < cap / 2) && picks.iter().any(|p| *p > cap / 2));
        assert_eq!(jitter.pick(Duration::ZERO), Duration::ZERO);
        assert!(jitter.pick(Duration::MAX) <= Duration::MAX);
    }
}

//! One deadline per call: credential lookup, connections, every attempt, redirect and wait.
//!
//! A call ends at its deadline whatever it is doing. The error is then
//! [`Timeout`](crate::ErrorKind::Timeout); for a write (a non-idempotent call) that may
//! already have been sent it is [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown) wrapping
//! the timeout, since the write may have been applied. A retry whose wait would end after the
//! deadline is not waited for: the call fails with the error that would have been retried.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::{Error, ErrorKind};

/// When a call must be over, if ever.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Option<Instant>,
}

/// Whether a request of the call may have reached the server (set before each send).
#[derive(Debug, Default)]
pub(crate) struct Sent(AtomicBool);

impl Sent {
    pub(crate) fn mark(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub(crate) fn happened(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl Deadline {
    /// The call's own deadline if it has one, otherwise `timeout` from now (none without
    /// either).
    pub(crate) fn of(own: Option<Instant>, timeout: Option<Duration>) -> Self {
        let at = own.or_else(|| timeout.and_then(|t| Instant::now().checked_add(t)));
        Self { at }
    }

    /// True when waiting `delay` still leaves time before the deadline.
    pub(crate) fn allows(&self, delay: Duration) -> bool {
        self.at.is_none_or(|at| {
            Instant::now()
                .checked_add(delay)
                .is_some_and(|end| end < at)
        })
    }

    /// The instant the call ends at, for `tokio::time::timeout_at`: its deadline, or without
    /// one thirty years on (what tokio itself takes for "never"), so that every call has the
    /// same shape of future.
    pub(crate) fn end(&self) -> Instant {
        self.at
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365 * 30))
    }

    /// The error of a call that reached its deadline after `elapsed`; see the
    /// [module documentation](self).
    pub(crate) fn expired(elapsed: Duration, non_idempotent: bool, sent: &Sent) -> Error {
        let err = Error::new(
            ErrorKind::Timeout,
            format!(
                "the call did not finish by its deadline (after {elapsed:?}; \
                 ClientOptions::call_timeout or CallOptions::call_timeout)"
            ),
        );
        if non_idempotent && sent.happened() {
            Error::outcome_unknown(err, "the call's deadline passed after the write was sent")
        } else {
            err
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call bounded as the pipeline bounds it.
    async fn bounded<F>(
        deadline: Deadline,
        call: F,
        non_idempotent: bool,
        sent: &Sent,
    ) -> Result<(), Error>
    where
        F: std::future::Future<Output = Result<(), Error>>,
    {
        let started = Instant::now();
        match tokio::time::timeout_at(deadline.end(), call).await {
            Ok(result) => result,
            Err(_) => Err(Deadline::expired(started.elapsed(), non_idempotent, sent)),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_ends_at_its_deadline_and_a_sent_write_is_unknown() {
        let deadline = Deadline::of(None, Some(Duration::from_secs(5)));
        assert!(deadline.allows(Duration::from_secs(4)));
        assert!(!deadline.allows(Duration::from_secs(6)));
        let sent = Sent::default();
        let forever = std::future::pending::<Result<(), Error>>();
        let err = bounded(deadline, forever, true, &sent).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        sent.mark();
        let deadline = Deadline::of(None, Some(Duration::from_secs(5)));
        let forever = std::future::pending::<Result<(), Error>>();
        let err = bounded(deadline, forever, true, &sent).await.unwrap_err();
        assert!(err.is_outcome_unknown(), "{err}");
        let forever = std::future::pending::<Result<(), Error>>();
        let err = bounded(deadline, forever, false, &sent).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        // No deadline: the call's own result, however long it takes.
        let none = Deadline::of(None, None);
        assert!(none.allows(Duration::MAX));
        assert!(bounded(none, async { Ok(()) }, true, &sent).await.is_ok());
        let slow = async {
            tokio::time::sleep(Duration::from_secs(86_400 * 365)).await;
            Ok(())
        };
        assert!(bounded(none, slow, true, &sent).await.is_ok());
    }
}

//! One deadline per call: credential lookup, connections, every attempt, redirect and wait.
//!
//! A call ends at its deadline whatever it is doing. The error is then
//! [`Timeout`](crate::ErrorKind::Timeout); for a write (a non-idempotent call) that may
//! already have been sent it is [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown) wrapping
//! the timeout, since the write may have been applied. A retry whose wait would end after the
//! deadline is not waited for: the call fails with the error that would have been retried.

use std::future::Future;
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

    /// Runs `call` until the deadline; see the [module documentation](self).
    pub(crate) async fn bound<T, F>(
        &self,
        call: F,
        non_idempotent: bool,
        sent: &Sent,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>>,
    {
        let Some(at) = self.at else {
            return call.await;
        };
        let started = Instant::now();
        match tokio::time::timeout_at(at, call).await {
            Ok(result) => result,
            Err(_) => {
                let err = Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the call did not finish by its deadline (after {:?}; \
                         ClientOptions::call_timeout or CallOptions::call_timeout)",
                        started.elapsed()
                    ),
                );
                if non_idempotent && sent.happened() {
                    Err(Error::outcome_unknown(
                        err,
                        "the call's deadline passed after the write was sent",
                    ))
                } else {
                    Err(err)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_call_ends_at_its_deadline_and_a_sent_write_is_unknown() {
        let deadline = Deadline::of(None, Some(Duration::from_secs(5)));
        assert!(deadline.allows(Duration::from_secs(4)));
        assert!(!deadline.allows(Duration::from_secs(6)));
        let sent = Sent::default();
        let forever = std::future::pending::<Result<(), Error>>();
        let err = deadline.bound(forever, true, &sent).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        sent.mark();
        let deadline = Deadline::of(None, Some(Duration::from_secs(5)));
        let forever = std::future::pending::<Result<(), Error>>();
        let err = deadline.bound(forever, true, &sent).await.unwrap_err();
        assert!(err.is_outcome_unknown(), "{err}");
        let forever = std::future::pending::<Result<(), Error>>();
        let err = deadline.bound(forever, false, &sent).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        // No deadline: the call's own result.
        let none = Deadline::of(None, None);
        assert!(none.allows(Duration::MAX));
        assert!(none.bound(async { Ok(3) }, true, &sent).await.is_ok());
    }
}

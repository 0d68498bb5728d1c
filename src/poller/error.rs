//! How a wait fails: [`PollError`] and [`TimedOut`].

use std::time::Duration;

/// How a wait failed: the operation's own error, or the timeout.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::poller::{PollError, TimedOut};
///
/// let err: PollError<std::io::Error> = TimedOut { waited: Duration::from_secs(5), polls: 9 }.into();
/// assert!(err.is_timeout());
/// assert_eq!(err.to_string(), "still pending after waiting 5s (9 polls)");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum PollError<E> {
    /// The step function returned an error the [`ErrorPolicy`](super::ErrorPolicy) did not tolerate.
    #[error(transparent)]
    Failed(E),
    /// The timeout passed before the operation finished.
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
}

impl<E> PollError<E> {
    /// Whether the wait ended because of its timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::TimedOut(_))
    }

    /// The operation's error, if the wait did not time out.
    pub fn into_failure(self) -> Option<E> {
        match self {
            Self::Failed(error) => Some(error),
            Self::TimedOut(_) => None,
        }
    }

    /// One error type for both outcomes, for an error type that can express a timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use confidential_ledger::poller::{PollError, TimedOut};
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum MyError { Service(u16), Timeout }
    /// impl From<TimedOut> for MyError {
    ///     fn from(_: TimedOut) -> Self { MyError::Timeout }
    /// }
    ///
    /// let timed_out = PollError::<MyError>::TimedOut(TimedOut { waited: Duration::from_secs(1), polls: 3 });
    /// assert_eq!(timed_out.into_error(), MyError::Timeout);
    /// assert_eq!(PollError::Failed(MyError::Service(500)).into_error(), MyError::Service(500));
    /// ```
    pub fn into_error(self) -> E
    where
        E: From<TimedOut>,
    {
        match self {
            Self::Failed(error) => error,
            Self::TimedOut(timed_out) => timed_out.into(),
        }
    }
}

/// A wait that gave up: the operation was still pending when the timeout passed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "still pending after waiting {waited:?} ({polls} poll{s})",
    s = if *polls == 1 { "" } else { "s" }
)]
pub struct TimedOut {
    /// How long the poller waited, from its first poll.
    pub waited: Duration,
    /// How many polls it made.
    pub polls: u32,
}

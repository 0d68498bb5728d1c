//! Long-running waits: [`Poller`] repeats a status check until it reports completion.
//!
//! A [`Poller`] is built from a *step function*: an async closure that asks the service once
//! and answers [`PollStep::Done`] with the result or [`PollStep::Pending`] with the current
//! status. The poller calls it right away, then again after each delay of its
//! [`PollingOptions`] (short at first, growing to a cap, with jitter, never shorter than the
//! server's `Retry-After`), until it is done, an error ends the wait, or the timeout passes.
//!
//! - **Await it** (it is [`IntoFuture`]) for the final result: `Result<T, PollError<E>>`,
//!   where a timeout is [`PollError::TimedOut`], distinct from the operation's own errors.
//! - **Watch it** with [`Poller::progress`], a stream of [`PollUpdate`]s that can be read from
//!   another task while the poller is awaited.
//! - **Step it by hand** with [`Poller::poll_once`] and [`Poller::next_delay`].
//! - **Cancel it** by dropping it (or the future it became): it runs no background task, so
//!   nothing is left behind and no further request is made.
//! - **Bound it** with [`Poller::with_timeout`].
//! - **Decide which errors it survives** with an [`ErrorPolicy`]: by default every error
//!   ends the wait ([`FailFast`]); [`ConsecutiveNotFound`] tolerates "still pending" errors and
//!   a few not-found answers in a row, for the replication lag right after a write.
//!
//! # Examples
//!
//! Waiting for a transaction to commit, with a fake service that commits at the third poll:
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::time::Duration;
//! use confidential_ledger::poller::{PollStep, Poller};
//!
//! #[derive(Debug, Clone, PartialEq)]
//! enum State { Pending, Committed }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let calls = Arc::new(AtomicU32::new(0));
//! let poller = Poller::new(move || {
//!     let calls = calls.clone();
//!     async move {
//!         // A real step function sends `GET /app/transactions/{id}/status` here.
//!         let state = if calls.fetch_add(1, Ordering::SeqCst) < 2 { State::Pending } else { State::Committed };
//!         Ok::<_, std::io::Error>(match state {
//!             State::Committed => PollStep::Done(state),
//!             pending => PollStep::pending(pending),
//!         })
//!     }
//! })
//! .with_timeout(Duration::from_secs(30));
//!
//! assert_eq!(poller.await?, State::Committed);
//! # Ok(())
//! # }
//! ```

mod error;
mod options;
mod policy;
mod progress;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use tokio::sync::watch;
use tokio::time::Instant;

pub use error::{PollError, TimedOut};
pub use options::{Backoff, MIN_DELAY, PollingOptions};
pub use policy::{
    ConsecutiveNotFound, ErrorAction, ErrorClass, ErrorPolicy, FailFast, PollErrorClass,
};
pub use progress::{PollUpdate, Progress};

/// The sending side of a wait's [`Progress`] stream.
pub(crate) type ProgressSender<S> = watch::Sender<Option<PollUpdate<S>>>;

/// The former name of [`ErrorAction`].
#[deprecated(note = "renamed to `ErrorAction` (the pipeline's retry decision is another thing)")]
pub type Verdict = ErrorAction;

/// What one poll found: the operation is done, or still pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollStep<T, S> {
    /// Finished: the wait ends with this value.
    Done(T),
    /// Not finished yet.
    Pending {
        /// The status the service reported, published to [`Poller::progress`].
        status: S,
        /// How long the service asked the client to wait (`Retry-After`), if it did. The poller
        /// waits at least this long, and longer if its own schedule says so.
        retry_after: Option<Duration>,
    },
}

impl<T, S> PollStep<T, S> {
    /// Pending with `status`, without a `Retry-After`.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::poller::PollStep;
    ///
    /// let step: PollStep<(), &str> = PollStep::pending("Loading");
    /// assert_eq!(step, PollStep::Pending { status: "Loading", retry_after: None });
    /// ```
    pub fn pending(status: S) -> Self {
        Self::Pending {
            status,
            retry_after: None,
        }
    }
}

type StepFuture<T, S, E> = BoxFuture<'static, Result<PollStep<T, S>, E>>;
type StepFn<T, S, E> = Box<dyn FnMut() -> StepFuture<T, S, E> + Send>;

/// A long-running wait: polls a step function until it reports [`PollStep::Done`].
///
/// `T` is the final result, `S` the status reported while pending, `E` the step function's
/// error. See the [module documentation](self) for an overview and an example.
///
/// Nothing happens until the poller is awaited or [`poll_once`](Self::poll_once) is called.
/// The first poll is immediate; later ones follow the [`PollingOptions`] schedule.
#[must_use = "a poller does nothing until it is awaited or polled"]
pub struct Poller<T, S, E> {
    step: StepFn<T, S, E>,
    policy: Box<dyn ErrorPolicy<E>>,
    backoff: Backoff,
    timeout: Option<Duration>,
    started: Option<Instant>,
    polls: u32,
    status: Option<S>,
    next_delay: Duration,
    updates: ProgressSender<S>,
    /// The step function waits by itself (a shared watcher answers it): no delay between steps.
    driven: bool,
}

impl<T, S, E> Poller<T, S, E>
where
    T: Send + 'static,
    S: Clone + Send + Sync + 'static,
    E: Send + 'static,
{
    /// A poller over `step`, with default [`PollingOptions`], no timeout and the [`FailFast`]
    /// error policy.
    ///
    /// `step` is called once per poll; each call returns a future that makes one request.
    pub fn new<F, Fut>(mut step: F) -> Self
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<PollStep<T, S>, E>> + Send + 'static,
    {
        let (updates, _) = watch::channel(None);
        Self {
            step: Box::new(move || step().boxed()),
            policy: Box::new(FailFast),
            backoff: Backoff::new(PollingOptions::default()),
            timeout: None,
            started: None,
            polls: 0,
            status: None,
            next_delay: Duration::ZERO,
            updates,
            driven: false,
        }
    }

    /// No delay between steps: the step function itself waits for news (the client's commit
    /// watcher answers it), so the schedule is the watcher's.
    pub(crate) fn driven(mut self) -> Self {
        self.driven = true;
        self
    }

    /// Publishes its progress through `updates` (a stream handed out before the poller was
    /// built) instead of a channel of its own.
    pub(crate) fn with_updates(mut self, updates: ProgressSender<S>) -> Self {
        self.updates = updates;
        self
    }

    /// Uses `options` for the delays between polls.
    pub fn with_options(mut self, options: PollingOptions) -> Self {
        self.backoff = Backoff::new(options);
        self
    }

    /// Gives up with [`PollError::TimedOut`] once `timeout` has passed since the first poll.
    ///
    /// The timeout bounds the whole wait, including a poll in flight when it passes. When the
    /// next poll would start after the deadline, the poller waits out the deadline and gives
    /// up then, so a timed-out wait always lasted the full `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Uses `policy` to decide which errors of the step function the wait survives.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::poller::{ConsecutiveNotFound, ErrorClass, PollErrorClass, PollStep, Poller};
    ///
    /// #[derive(Debug)]
    /// struct NotFound;
    /// impl PollErrorClass for NotFound {
    ///     fn poll_error_class(&self) -> ErrorClass { ErrorClass::NotFoundYet }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// // A resource that never shows up: three not-found answers in a row are tolerated...
    /// let mut poller = Poller::<(), (), _>::new(|| async { Err(NotFound) })
    ///     .with_error_policy(ConsecutiveNotFound::new(3));
    /// for _ in 0..3 {
    ///     assert!(poller.poll_once().await.unwrap().is_none());
    /// }
    /// // ...the fourth ends the wait.
    /// assert!(poller.poll_once().await.is_err());
    /// # }
    /// ```
    pub fn with_error_policy(mut self, policy: impl ErrorPolicy<E> + 'static) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// A stream of the wait's progress, one [`PollUpdate`] per poll that did not finish it.
    ///
    /// Take it before awaiting the poller and read it elsewhere (another task, or
    /// `futures::join!`); it ends when the wait ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use confidential_ledger::poller::{PollStep, Poller};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut left = 3;
    /// let poller = Poller::new(move || {
    ///     left -= 1;
    ///     let step = if left == 0 { PollStep::Done("Ready") } else { PollStep::pending("Loading") };
    ///     async move { Ok::<_, std::io::Error>(step) }
    /// });
    /// let progress = poller.progress();
    /// let watcher = tokio::spawn(progress.map(|update| update.polls).collect::<Vec<_>>());
    ///
    /// assert_eq!(poller.await.unwrap(), "Ready");
    /// assert_eq!(watcher.await.unwrap(), [1, 2]);
    /// # }
    /// ```
    pub fn progress(&self) -> Progress<S> {
        Progress::new(self.updates.subscribe())
    }

    /// The latest status the service reported, if any poll succeeded yet.
    pub fn status(&self) -> Option<&S> {
        self.status.as_ref()
    }

    /// How many polls were made so far.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// How long the poller waits before its next poll (zero before the first poll).
    ///
    /// After [`poll_once`](Self::poll_once) returned `Ok(None)`, this is the delay to honour
    /// before calling it again, `Retry-After` included.
    pub fn next_delay(&self) -> Duration {
        self.next_delay
    }

    /// Polls once, right now, for manual stepping.
    ///
    /// Returns `Ok(Some(value))` when the operation is done, `Ok(None)` when it is still pending
    /// or the error policy tolerated an error (wait [`next_delay`](Self::next_delay) before the
    /// next call). Calling it again after `Done` polls again.
    ///
    /// # Errors
    ///
    /// [`PollError::Failed`] with an error the policy does not tolerate;
    /// [`PollError::TimedOut`] when the timeout passed before or during this poll.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::poller::{PollStep, Poller};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut remaining = 2;
    /// let mut poller = Poller::new(move || {
    ///     remaining -= 1;
    ///     let step = if remaining == 0 { PollStep::Done(42) } else { PollStep::pending("Pending") };
    ///     async move { Ok::<_, std::io::Error>(step) }
    /// });
    /// let value = loop {
    ///     if let Some(value) = poller.poll_once().await? {
    ///         break value;
    ///     }
    ///     println!("{:?}, next poll in {:?}", poller.status(), poller.next_delay());
    ///     tokio::time::sleep(poller.next_delay()).await;
    /// };
    /// assert_eq!(value, 42);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn poll_once(&mut self) -> Result<Option<T>, PollError<E>> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let deadline = self.timeout.map(|timeout| deadline_after(started, timeout));
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Err(self.timed_out().into());
        }

        let request = (self.step)();
        let outcome = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, request).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    self.polls = self.polls.saturating_add(1);
                    return Err(self.timed_out().into());
                }
            },
            None => request.await,
        };
        self.polls = self.polls.saturating_add(1);

        match outcome {
            Ok(PollStep::Done(value)) => {
                self.policy.on_success();
                self.next_delay = Duration::ZERO;
                Ok(Some(value))
            }
            Ok(PollStep::Pending {
                status,
                retry_after,
            }) => {
                self.policy.on_success();
                self.status = Some(status);
                self.schedule(retry_after);
                Ok(None)
            }
            Err(error) => match self.policy.on_error(&error) {
                ErrorAction::KeepWaiting => {
                    tracing::debug!(polls = self.polls, "error tolerated while waiting");
                    self.schedule(None);
                    Ok(None)
                }
                ErrorAction::Fail => Err(PollError::Failed(error)),
            },
        }
    }

    fn schedule(&mut self, retry_after: Option<Duration>) {
        self.next_delay = if self.driven {
            Duration::ZERO
        } else {
            self.backoff.next_delay(retry_after)
        };
        tracing::debug!(
            polls = self.polls,
            next_poll_in = ?self.next_delay,
            retry_after = ?retry_after,
            "still pending"
        );
        self.updates.send_replace(Some(PollUpdate {
            status: self.status.clone(),
            polls: self.polls,
            next_poll_in: self.next_delay,
        }));
    }

    fn timed_out(&self) -> TimedOut {
        TimedOut {
            waited: self.started.map(|s| s.elapsed()).unwrap_or_default(),
            polls: self.polls,
        }
    }

    async fn run(mut self) -> Result<T, PollError<E>> {
        loop {
            if let Some(value) = self.poll_once().await? {
                return Ok(value);
            }
            let wake = Instant::now()
                .checked_add(self.next_delay)
                .unwrap_or_else(far_future);
            let deadline = match (self.started, self.timeout) {
                (Some(started), Some(timeout)) => Some(deadline_after(started, timeout)),
                _ => None,
            };
            match deadline {
                Some(deadline) if wake >= deadline => {
                    tokio::time::sleep_until(deadline).await;
                    return Err(self.timed_out().into());
                }
                _ => tokio::time::sleep_until(wake).await,
            }
        }
    }
}

/// `start + timeout`, or a far future when that does not fit in an `Instant`.
pub(crate) fn deadline_after(start: Instant, timeout: Duration) -> Instant {
    start.checked_add(timeout).unwrap_or_else(far_future)
}

/// About thirty years from now: "never" for a timer.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

impl<T, S, E> IntoFuture for Poller<T, S, E>
where
    T: Send + 'static,
    S: Clone + Send + Sync + 'static,
    E: Send + 'static,
{
    type Output = Result<T, PollError<E>>;
    type IntoFuture = PollFuture<T, E>;

    fn into_future(self) -> Self::IntoFuture {
        PollFuture {
            inner: self.run().boxed(),
        }
    }
}

impl<T, S: fmt::Debug, E> fmt::Debug for Poller<T, S, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("status", &self.status)
            .field("polls", &self.polls)
            .field("next_delay", &self.next_delay)
            .field("timeout", &self.timeout)
            .field("options", self.backoff.options())
            .finish_non_exhaustive()
    }
}

/// The future of an awaited [`Poller`]. Dropping it cancels the wait.
#[must_use = "futures do nothing unless awaited"]
pub struct PollFuture<T, E> {
    inner: BoxFuture<'static, Result<T, PollError<E>>>,
}

impl<T, E> Future for PollFuture<T, E> {
    type Output = Result<T, PollError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.poll_unpin(cx)
    }
}

impl<T, E> fmt::Debug for PollFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollFuture").finish_non_exhaustive()
    }
}

//! [`TransactionPoller`]: the blocking form of the client's waits, and [`Progress`], the
//! blocking form of their progress stream.

use std::fmt;
use std::future::IntoFuture;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::{FutureExt, StreamExt};

use super::runtime::{Panic, Runtime};
use crate::poller::{PollUpdate, PollingOptions};
use crate::{Error, TransactionId};

type ProgressCallback<S> = Box<dyn FnMut(&PollUpdate<S>) + Send>;

/// A wait for something about one transaction (its commit, its entry or its receipt while the
/// ledger is `Loading` it): the blocking form of [`crate::TransactionPoller`].
///
/// - **Wait for it** with [`wait`](Self::wait): `Result<T, Error>`; a wait that gives up is a
///   [`Timeout`](crate::ErrorKind::Timeout) error.
/// - **Watch it** with [`on_progress`](Self::on_progress) (a callback run on the waiting
///   thread after each poll that did not finish the wait) or [`progress`](Self::progress) (an
///   iterator to read from another thread).
/// - **Bound it** with [`with_timeout`](Self::with_timeout), **pace it** with
///   [`with_polling`](Self::with_polling), **step it** by hand with
///   [`poll_once`](Self::poll_once), or **cancel it** by dropping it.
///
/// Polling starts at once and backs off as for the async poller (25 ms growing to 1 s by
/// default, never faster than a `Retry-After`).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// # fn run(client: confidential_ledger::blocking::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let written = client.create_ledger_entry("hello", None)?;
/// let status = client
///     .wait_for_commit(written.transaction_id, None)
///     .with_timeout(Duration::from_secs(30))
///     .on_progress(|update| println!("{:?} after {} polls", update.status, update.polls))
///     .wait()?;
/// assert!(status.state.is_committed());
/// # Ok(()) }
/// ```
#[must_use = "a poller does nothing until it is waited for or polled"]
pub struct TransactionPoller<T, S> {
    /// `None` only while a `poll_once` runs on the runtime thread, or after it panicked.
    inner: Option<crate::TransactionPoller<T, S>>,
    transaction_id: Option<TransactionId>,
    on_progress: Option<ProgressCallback<S>>,
    runtime: Runtime,
}

/// What the task driving a watched wait tells the waiting thread.
enum Report<T, S> {
    Update(PollUpdate<S>),
    Done(Result<T, Error>),
    Panicked(Panic),
}

impl<T, S> TransactionPoller<T, S>
where
    T: Send + 'static,
    S: Clone + Send + Sync + 'static,
{
    pub(crate) fn new(inner: crate::TransactionPoller<T, S>, runtime: Runtime) -> Self {
        Self {
            transaction_id: inner.transaction_id(),
            inner: Some(inner),
            on_progress: None,
            runtime,
        }
    }

    /// The transaction waited for (`None` when the id given was malformed: the wait then
    /// fails with [`InvalidInput`](crate::ErrorKind::InvalidInput) without sending anything).
    pub fn transaction_id(&self) -> Option<TransactionId> {
        self.transaction_id
    }

    /// Gives up with a [`Timeout`](crate::ErrorKind::Timeout) error once `timeout` has passed
    /// since the first poll; see [`crate::TransactionPoller::with_timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.inner = self.inner.map(|inner| inner.with_timeout(timeout));
        self
    }

    /// Polls on this schedule.
    pub fn with_polling(mut self, options: PollingOptions) -> Self {
        self.inner = self.inner.map(|inner| inner.with_polling(options));
        self
    }

    /// Calls `callback` on the thread that [`wait`](Self::wait)s, after each poll that did not
    /// finish the wait, with where the wait stands (the status the ledger reported, the number
    /// of polls, the delay before the next one). A slow callback sees the latest update, not
    /// every one.
    pub fn on_progress(mut self, callback: impl FnMut(&PollUpdate<S>) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(callback));
        self
    }

    /// An iterator over the wait's progress, one [`PollUpdate`] per poll that did not finish
    /// it, ending when the wait ends. Read it from **another thread** than the one that waits
    /// (on the same thread, its `next` would wait for polls that never start); or use
    /// [`on_progress`](Self::on_progress).
    pub fn progress(&self) -> Progress<S> {
        Progress {
            inner: self.inner.as_ref().map(crate::TransactionPoller::progress),
            runtime: self.runtime.clone(),
        }
    }

    /// The latest status the ledger reported, if a poll got one yet.
    pub fn status(&self) -> Option<&S> {
        self.inner
            .as_ref()
            .and_then(crate::TransactionPoller::status)
    }

    /// How many polls were made so far.
    pub fn polls(&self) -> u32 {
        self.inner
            .as_ref()
            .map_or(0, crate::TransactionPoller::polls)
    }

    /// How long to wait before the next [`poll_once`](Self::poll_once).
    pub fn next_delay(&self) -> Duration {
        self.inner
            .as_ref()
            .map_or(Duration::ZERO, crate::TransactionPoller::next_delay)
    }

    /// Polls once, now: `Ok(Some(result))` when done, `Ok(None)` when still pending (wait
    /// [`next_delay`](Self::next_delay) before polling again).
    ///
    /// # Errors
    ///
    /// The error that ended the wait, or [`Timeout`](crate::ErrorKind::Timeout).
    ///
    /// # Panics
    ///
    /// Inside an async execution context; see [the module documentation](super#async-contexts).
    pub fn poll_once(&mut self) -> Result<Option<T>, Error> {
        let Some(mut inner) = self.inner.take() else {
            return Err(poisoned());
        };
        let (inner, result) = self.runtime.block_on(async move {
            let result = inner.poll_once().await;
            (inner, result)
        });
        self.inner = Some(inner);
        result
    }

    /// Waits until the wait ends: the result, or the error that ended it.
    ///
    /// # Errors
    ///
    /// Those of the call that made the poller, and [`Timeout`](crate::ErrorKind::Timeout).
    ///
    /// # Panics
    ///
    /// Inside an async execution context; see [the module documentation](super#async-contexts).
    pub fn wait(self) -> Result<T, Error> {
        let Self {
            inner,
            on_progress,
            runtime,
            ..
        } = self;
        let Some(inner) = inner else {
            return Err(poisoned());
        };
        match on_progress {
            None => runtime.block_on(inner.into_future()),
            Some(callback) => watched(inner, callback, &runtime),
        }
    }
}

/// Waits for `inner` on the runtime thread, running `callback` here for each update.
fn watched<T, S>(
    inner: crate::TransactionPoller<T, S>,
    mut callback: ProgressCallback<S>,
    runtime: &Runtime,
) -> Result<T, Error>
where
    T: Send + 'static,
    S: Clone + Send + Sync + 'static,
{
    super::runtime::ensure_blocking_allowed();
    let (report, reports) = std::sync::mpsc::channel();
    let progress = inner.progress();
    runtime.spawn(async move {
        let updates = report.clone();
        let forward = progress.for_each(move |update| {
            let _ = updates.send(Report::Update(update));
            futures::future::ready(())
        });
        // The progress stream ends when the wait does, so every update is forwarded before
        // the result.
        let driven = AssertUnwindSafe(futures::future::join(inner.into_future(), forward))
            .catch_unwind()
            .await;
        let _ = report.send(match driven {
            Ok((result, ())) => Report::Done(result),
            Err(panic) => Report::Panicked(panic),
        });
    });
    for message in reports {
        match message {
            Report::Update(update) => callback(&update),
            Report::Done(result) => return result,
            Report::Panicked(panic) => std::panic::resume_unwind(panic),
        }
    }
    panic!("the blocking client's runtime thread stopped")
}

/// The error of a poller whose earlier `poll_once` panicked.
fn poisoned() -> Error {
    Error::invalid_input("this poller cannot be used: an earlier poll_once panicked")
}

impl<T, S: fmt::Debug> fmt::Debug for TransactionPoller<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionPoller")
            .field("transaction_id", &self.transaction_id)
            .field("inner", &self.inner)
            .field("on_progress", &self.on_progress.is_some())
            .finish_non_exhaustive()
    }
}

/// The progress of a [`TransactionPoller`], as an iterator: see
/// [`TransactionPoller::progress`].
///
/// # Examples
///
/// ```no_run
/// # fn run(client: confidential_ledger::blocking::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let written = client.create_ledger_entry("hello", None)?;
/// let poller = client.wait_for_commit(written.transaction_id, None);
/// let progress = poller.progress();
/// let watcher = std::thread::spawn(move || progress.map(|update| update.polls).collect::<Vec<_>>());
/// poller.wait()?;
/// println!("polls that found it pending: {:?}", watcher.join().unwrap());
/// # Ok(()) }
/// ```
pub struct Progress<S> {
    inner: Option<crate::poller::Progress<S>>,
    runtime: Runtime,
}

impl<S: Send + 'static> Iterator for Progress<S> {
    type Item = PollUpdate<S>;

    /// The next update, waiting for it.
    ///
    /// # Panics
    ///
    /// Inside an async execution context; see [the module documentation](super#async-contexts).
    fn next(&mut self) -> Option<PollUpdate<S>> {
        let mut inner = self.inner.take()?;
        let (inner, update) = self.runtime.block_on(async move {
            let update = inner.next().await;
            (inner, update)
        });
        self.inner = Some(inner);
        update
    }
}

impl<S> fmt::Debug for Progress<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("ended", &self.inner.is_none())
            .finish_non_exhaustive()
    }
}

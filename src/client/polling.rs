//! [`TransactionPoller`]: the client's waits (for a commit, for a `Loading` entry or receipt),
//! on top of the generic [`Poller`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::cell::OnceCell;

use futures::future::{BoxFuture, FutureExt};
use tokio::sync::watch;

use super::commit_wait::WatchedWait;
use crate::models::TransactionState;
use crate::poller::{
    ConsecutiveNotFound, ErrorAction, ErrorClass, ErrorPolicy, PollErrorClass, PollStep, Poller,
    PollingOptions, Progress, ProgressSender,
};
use crate::{Error, ErrorKind, ParseTransactionIdError, TransactionId};

/// A wait for something about one transaction: its commit, its entry or its receipt while the
/// ledger is `Loading` it.
///
/// - **Await it** for the result: `Result<T, Error>`; a wait that gives up is a
///   [`Timeout`](ErrorKind::Timeout) error.
/// - **Watch it** with [`progress`](Self::progress): a stream of updates (the status `S` the
///   ledger reported, the number of polls, the next delay), readable from another task while
///   the poller is awaited.
/// - **Cancel it** by dropping it (or the future it became): no request is made for it
///   afterwards.
/// - **Bound it** with [`with_timeout`](Self::with_timeout), **pace it** with
///   [`with_polling`](Self::with_polling), or **step it** by hand with
///   [`poll_once`](Self::poll_once).
///
/// A commit wait is answered by the client's commit watcher: one stream of status polls shared
/// by all the client's outstanding commit waits (one `Committed` answer settles the earlier
/// transactions of its view, an `Invalid` one the later ones), timed by the signature rhythm
/// it learns, never faster than a `Retry-After` the ledger sent; its task stops when no wait
/// is left. Each answer about the wait's own transaction counts as one of its polls. Other
/// waits, and commit waits given their own polling, poll on their own: the first poll is
/// immediate, later ones follow the [`PollingOptions`] schedule (25 ms, growing by 1.5× to 1 s
/// by default), never faster than a `Retry-After`.
///
/// # Examples
///
/// ```no_run
/// use futures::StreamExt;
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let written = client.create_ledger_entry("hello", None).await?;
/// let poller = client
///     .wait_for_commit(written.transaction_id, None)
///     .with_timeout(std::time::Duration::from_secs(30));
/// let mut progress = poller.progress();
/// tokio::spawn(async move {
///     while let Some(update) = progress.next().await {
///         println!("{:?} after {} polls", update.status, update.polls);
///     }
/// });
/// let status = poller.await?;
/// assert!(status.state.is_committed());
/// # Ok(()) }
/// ```
#[must_use = "a poller does nothing until it is awaited or polled"]
pub struct TransactionPoller<T, S> {
    wait: Wait<T, S>,
    transaction_id: Option<TransactionId>,
}

/// How a [`TransactionPoller`] waits. The pollers are boxed: an application may hold
/// thousands of waits (one per write in flight), and a watched wait needs no poller.
enum Wait<T, S> {
    /// Through a [`Poller`] polling on its own.
    Polling(Box<Poller<T, S, Error>>),
    /// Answered by the client's commit watcher.
    Watched(Watched<T, S>),
}

/// A commit wait answered by the client's commit watcher. Awaited as it is, it costs a
/// registration with the watcher and little else; a [`Poller`] is built only when the wait is
/// stepped by hand ([`TransactionPoller::poll_once`]) or asked for
/// ([`TransactionPoller::into_poller`]).
struct Watched<T, S> {
    wait: WatchedWait<T>,
    /// The status type of the poller (`TransactionState` for every watched wait; a function
    /// rather than a bound keeps [`TransactionPoller`] generic).
    status: fn(TransactionState) -> S,
    /// The sender of [`TransactionPoller::progress`]'s stream, once one was asked for.
    updates: OnceCell<ProgressSender<S>>,
    /// The poller, once the wait was stepped by hand.
    poller: Option<Box<Poller<T, S, Error>>>,
}

impl<T, S> Watched<T, S>
where
    T: Send + 'static,
    S: Clone + Send + Sync + 'static,
{
    fn poller_mut(&mut self) -> &mut Poller<T, S, Error> {
        let (wait, status, updates) = (&self.wait, self.status, &mut self.updates);
        self.poller
            .get_or_insert_with(|| Box::new(wait.driven_poller(status, updates.take())))
    }

    fn into_poller(mut self) -> Poller<T, S, Error> {
        match self.poller {
            Some(poller) => *poller,
            None => self.wait.driven_poller(self.status, self.updates.take()),
        }
    }
}

impl<T> TransactionPoller<T, TransactionState>
where
    T: Send + 'static,
{
    /// A commit wait answered by the client's commit watcher.
    pub(crate) fn watched(wait: WatchedWait<T>) -> Self {
        let transaction_id = Some(wait.transaction_id());
        Self {
            wait: Wait::Watched(Watched {
                wait,
                status: std::convert::identity,
                updates: OnceCell::new(),
                poller: None,
            }),
            transaction_id,
        }
    }
}

impl<T, S> TransactionPoller<T, S>
where
    T: Send + 'static,
    S: Clone + Send + Sync + 'static,
{
    pub(crate) fn new(poller: Poller<T, S, Error>, transaction_id: TransactionId) -> Self {
        Self {
            wait: Wait::Polling(Box::new(poller)),
            transaction_id: Some(transaction_id),
        }
    }

    /// A poller that fails at its first poll, without a request: the transaction id given to
    /// `operation` was malformed.
    pub(crate) fn invalid(err: &ParseTransactionIdError, operation: &'static str) -> Self {
        let detail = err.to_string();
        Self {
            wait: Wait::Polling(Box::new(Poller::new(move || {
                let err = Error::invalid_input(detail.clone()).with_operation(operation);
                async move { Err::<PollStep<T, S>, Error>(err) }
            }))),
            transaction_id: None,
        }
    }

    /// The transaction waited for (`None` when the id given was malformed: the wait then
    /// fails with [`InvalidInput`](ErrorKind::InvalidInput) without sending anything).
    pub fn transaction_id(&self) -> Option<TransactionId> {
        self.transaction_id
    }

    /// Gives up with a [`Timeout`](ErrorKind::Timeout) error once `timeout` has passed since
    /// the first poll (replacing the client's
    /// [`wait_timeout`](crate::ClientOptions::wait_timeout) and the call's option).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.wait = match self.wait {
            Wait::Polling(poller) => Wait::Polling(Box::new(poller.with_timeout(timeout))),
            Wait::Watched(mut watched) => {
                watched.wait.set_timeout(timeout);
                watched.poller = watched
                    .poller
                    .map(|poller| Box::new(poller.with_timeout(timeout)));
                Wait::Watched(watched)
            }
        };
        self
    }

    /// Polls on this schedule, on its own, instead of through the client's commit watcher
    /// (call it before [`progress`](Self::progress)).
    pub fn with_polling(mut self, options: PollingOptions) -> Self {
        self.wait = Wait::Polling(Box::new(match self.wait {
            Wait::Polling(poller) => poller.with_options(options),
            Wait::Watched(watched) => watched.wait.own_poller(watched.status, options),
        }));
        self
    }

    /// A stream of the wait's progress; see [`Poller::progress`].
    pub fn progress(&self) -> Progress<S> {
        match &self.wait {
            Wait::Polling(poller) => poller.progress(),
            Wait::Watched(Watched {
                poller: Some(poller),
                ..
            }) => poller.progress(),
            Wait::Watched(watched) => Progress::new(
                watched
                    .updates
                    .get_or_init(|| watch::channel(None).0)
                    .subscribe(),
            ),
        }
    }

    /// The latest status the ledger reported, if a poll got one yet.
    pub fn status(&self) -> Option<&S> {
        self.poller().and_then(Poller::status)
    }

    /// How many polls were made so far.
    pub fn polls(&self) -> u32 {
        self.poller().map_or(0, Poller::polls)
    }

    /// How long to wait before the next [`poll_once`](Self::poll_once).
    pub fn next_delay(&self) -> Duration {
        self.poller().map_or(Duration::ZERO, Poller::next_delay)
    }

    /// Polls once, now: `Ok(Some(result))` when done, `Ok(None)` when still pending (wait
    /// [`next_delay`](Self::next_delay) before polling again).
    ///
    /// # Errors
    ///
    /// The error that ended the wait, or [`Timeout`](ErrorKind::Timeout).
    pub async fn poll_once(&mut self) -> Result<Option<T>, Error> {
        let poller = match &mut self.wait {
            Wait::Polling(poller) => poller,
            Wait::Watched(watched) => watched.poller_mut(),
        };
        poller.poll_once().await.map_err(Error::from)
    }

    /// The generic poller underneath, whose output keeps timeouts apart
    /// ([`PollError`](crate::PollError)).
    pub fn into_poller(self) -> Poller<T, S, Error> {
        match self.wait {
            Wait::Polling(poller) => *poller,
            Wait::Watched(watched) => watched.into_poller(),
        }
    }

    /// The poller, if there is one yet (a watched wait not stepped by hand has none: it has
    /// no status, no polls and no delay yet).
    fn poller(&self) -> Option<&Poller<T, S, Error>> {
        match &self.wait {
            Wait::Polling(poller) => Some(poller),
            Wait::Watched(watched) => watched.poller.as_deref(),
        }
    }
}

impl<T, S> IntoFuture for TransactionPoller<T, S>
where
    T: Send + 'static,
    S: Clone + Send + Sync + 'static,
{
    type Output = Result<T, Error>;
    type IntoFuture = TransactionPollFuture<T>;

    fn into_future(self) -> Self::IntoFuture {
        let inner = match self.wait {
            Wait::Polling(poller) => async move { (*poller).await.map_err(Error::from) }.boxed(),
            Wait::Watched(Watched {
                poller: Some(poller),
                ..
            }) => async move { (*poller).await.map_err(Error::from) }.boxed(),
            Wait::Watched(mut watched) => {
                let updates = watched.updates.take();
                watched.wait.wait(watched.status, updates).boxed()
            }
        };
        TransactionPollFuture { inner }
    }
}

impl<T, S: fmt::Debug> fmt::Debug for TransactionPoller<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("TransactionPoller");
        debug.field("transaction_id", &self.transaction_id);
        match &self.wait {
            Wait::Polling(poller)
            | Wait::Watched(Watched {
                poller: Some(poller),
                ..
            }) => debug.field("poller", poller),
            Wait::Watched(watched) => debug.field("watched", &watched.wait),
        };
        debug.finish()
    }
}

/// The future of an awaited [`TransactionPoller`]. Dropping it cancels the wait.
#[must_use = "futures do nothing unless awaited"]
pub struct TransactionPollFuture<T> {
    inner: BoxFuture<'static, Result<T, Error>>,
}

impl<T> Future for TransactionPollFuture<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.poll_unpin(cx)
    }
}

impl<T> fmt::Debug for TransactionPollFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionPollFuture")
            .finish_non_exhaustive()
    }
}

/// How reads of a committed transaction (its entry, its receipt) treat the ledger's errors:
/// as a commit wait does ([`ConsecutiveNotFound`]: a node that has not caught up may answer
/// `404` for a moment), except that `UnknownLedgerEntry` (the transaction wrote nothing to that
/// collection) is final at once.
#[derive(Debug, Default)]
pub(crate) struct ReadPolicy(ConsecutiveNotFound);

impl ErrorPolicy<Error> for ReadPolicy {
    fn on_error(&mut self, error: &Error) -> ErrorAction {
        if error.error_code() == Some("UnknownLedgerEntry") {
            return ErrorAction::Fail;
        }
        self.0.observe(error)
    }

    fn on_success(&mut self) {
        self.0.reset();
    }
}

/// How waits for a commit treat the ledger's errors: `406` is "still pending", a `404` right
/// after a write is replication lag (a few are tolerated in a row), a `404` with code
/// `InvalidTransactionId` and everything else end the wait.
impl PollErrorClass for Error {
    fn poll_error_class(&self) -> ErrorClass {
        match (self.status().map(|s| s.as_u16()), self.error_code()) {
            (Some(406), _) => ErrorClass::StillPending,
            (Some(404), Some("InvalidTransactionId")) => ErrorClass::Final,
            (Some(404), _) if *self.kind() == ErrorKind::NotFound => ErrorClass::NotFoundYet,
            _ => ErrorClass::Final,
        }
    }
}

impl super::ConfidentialLedgerClient {
    /// One status poll of a commit wait: the status, and how long the ledger asked to wait
    /// before the next poll (`Retry-After` and its millisecond variants), cut to
    /// [`RetryOptions::max_retry_after`](crate::pipeline::RetryOptions::max_retry_after).
    pub(super) async fn status_poll(
        &self,
        id: TransactionId,
        call: &super::CallOptions,
    ) -> Result<(crate::models::TransactionStatus, Option<Duration>), Error> {
        let response = self.status_response(id, call).await?;
        let wait = crate::pipeline::retry_after(response.headers(), std::time::SystemTime::now())
            .map(|wait| wait.min(self.inner.options.retry.max_retry_after));
        let status = crate::models::TransactionStatus::from_generated(response.into_inner())?;
        Ok((status, wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn answer(status: u16, code: &str) -> Error {
        let body = format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#);
        Error::from_parts(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn commit_waits_classify_the_ledgers_answers() {
        assert_eq!(
            answer(406, "TransactionPendingOrUnknown").poll_error_class(),
            ErrorClass::StillPending
        );
        assert_eq!(
            answer(404, "TransactionPendingOrUnknown").poll_error_class(),
            ErrorClass::NotFoundYet
        );
        assert_eq!(
            answer(404, "InvalidTransactionId").poll_error_class(),
            ErrorClass::Final
        );
        for (status, code) in [(500, "InternalError"), (403, "NotAllowed"), (401, "x")] {
            assert_eq!(answer(status, code).poll_error_class(), ErrorClass::Final);
        }
        assert_eq!(
            Error::invalid_input("x").poll_error_class(),
            ErrorClass::Final
        );
    }

    #[test]
    fn reads_tolerate_lag_but_not_a_missing_entry() {
        let mut policy = ReadPolicy::default();
        for _ in 0..3 {
            assert_eq!(
                policy.on_error(&answer(404, "TransactionPendingOrUnknown")),
                ErrorAction::KeepWaiting
            );
        }
        assert_eq!(
            policy.on_error(&answer(404, "TransactionPendingOrUnknown")),
            ErrorAction::Fail
        );
        policy.on_success();
        assert_eq!(
            policy.on_error(&answer(404, "UnknownLedgerEntry")),
            ErrorAction::Fail
        );
        assert_eq!(
            policy.on_error(&answer(404, "InvalidTransactionId")),
            ErrorAction::Fail
        );
    }

    #[tokio::test]
    async fn a_malformed_id_fails_the_first_poll_and_names_the_operation() {
        let err = "2.x".parse::<TransactionId>().unwrap_err();
        let mut poller = TransactionPoller::<(), ()>::invalid(&err, "get_receipt");
        assert_eq!(poller.transaction_id(), None);
        let first = poller.poll_once().await.unwrap_err();
        assert_eq!(first.kind(), &ErrorKind::InvalidInput);
        assert_eq!(first.operation(), Some("get_receipt"));
        assert!(first.to_string().contains("\"2.x\""), "{first}");
    }
}

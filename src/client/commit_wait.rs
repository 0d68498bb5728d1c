//! One commit wait: answered by the client's commit watcher ([`WatchedWait`]), or polling on
//! its own.
//!
//! An awaited watched wait registers with the watcher and reads its answers: no [`Poller`],
//! no step function, no boxed step per answer. That is the path of every commit wait that
//! keeps the client's default polling, so a program with thousands of writes waiting at once
//! pays little for each. A [`Poller`] over the same answers is built only when the wait is
//! stepped by hand.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use super::commit_book::Settled;
use super::commit_watcher::{Delivery, Registration};
use super::{CallOptions, ConfidentialLedgerClient, TransactionPoller};
use crate::models::{TransactionState, TransactionStatus};
use crate::poller::{
    ConsecutiveNotFound, ErrorAction, ErrorPolicy, PollStep, PollUpdate, Poller, PollingOptions,
    ProgressSender, TimedOut, deadline_after,
};
use crate::{Error, ErrorKind, TransactionId};

/// What a commit wait ends with, given the committed status.
type Done<T> = Arc<dyn Fn(TransactionStatus) -> T + Send + Sync>;

/// A wait for the commit of one transaction, answered by the client's commit watcher.
pub(crate) struct WatchedWait<T> {
    client: ConfidentialLedgerClient,
    id: TransactionId,
    timeout: Option<Duration>,
    done: Done<T>,
}

impl<T> fmt::Debug for WatchedWait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchedWait")
            .field("transaction_id", &self.id)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> WatchedWait<T> {
    pub(crate) fn transaction_id(&self) -> TransactionId {
        self.id
    }

    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    /// Waits for the watcher's verdict: the wait's result, its error, or a
    /// [`Timeout`](ErrorKind::Timeout) once the timeout passed since the first poll. Each
    /// answer about the transaction counts as a poll and, while it is pending, is published to
    /// `updates` (with its status mapped by `status`) as a [`Poller`] would.
    pub(crate) async fn wait<S: Clone>(
        self,
        status: fn(TransactionState) -> S,
        updates: Option<ProgressSender<S>>,
    ) -> Result<T, Error> {
        let started = Instant::now();
        let mut polls = 0;
        let answers = self.answers(status, updates.as_ref(), &mut polls);
        let Some(timeout) = self.timeout else {
            return answers.await;
        };
        let outcome = tokio::time::timeout_at(deadline_after(started, timeout), answers).await;
        outcome.unwrap_or_else(|_| {
            Err(TimedOut {
                waited: started.elapsed(),
                // The answer being waited for counts, as a poller counts the poll in flight.
                polls: polls.saturating_add(1),
            }
            .into())
        })
    }

    /// The watcher's answers until one ends the wait (see [`wait`](Self::wait)).
    async fn answers<S: Clone>(
        &self,
        status: fn(TransactionState) -> S,
        updates: Option<&ProgressSender<S>>,
        polls: &mut u32,
    ) -> Result<T, Error> {
        let mut registration = self.client.inner.watcher.register(&self.client, self.id);
        let mut policy = ConsecutiveNotFound::default();
        let mut last = None;
        loop {
            let delivery = registration.next(&self.client, self.id).await;
            *polls = polls.saturating_add(1);
            match delivery {
                Delivery::Settled(settled) => return verdict(self.id, &self.done, settled),
                Delivery::Pending(state, _) => {
                    ErrorPolicy::<Error>::on_success(&mut policy);
                    last = Some(status(state));
                    tracing::debug!(polls = *polls, "still pending");
                }
                Delivery::Failed(err) => match policy.on_error(&err) {
                    ErrorAction::KeepWaiting => {
                        tracing::debug!(polls = *polls, "error tolerated while waiting");
                    }
                    ErrorAction::Fail => return Err(err),
                },
            }
            if let Some(updates) = updates {
                updates.send_replace(Some(PollUpdate {
                    status: last.clone(),
                    polls: *polls,
                    next_poll_in: Duration::ZERO,
                }));
            }
        }
    }

    /// The same wait as a [`Poller`] stepping through the watcher's answers (one step per
    /// answer, no delay of its own), publishing to `updates` when given.
    pub(crate) fn driven_poller<S>(
        &self,
        status: fn(TransactionState) -> S,
        updates: Option<ProgressSender<S>>,
    ) -> Poller<T, S, Error>
    where
        S: Clone + Send + Sync + 'static,
    {
        let (client, id, done) = (self.client.clone(), self.id, Arc::clone(&self.done));
        let slot = Arc::new(tokio::sync::Mutex::new(None::<Registration>));
        let poller = Poller::new(move || {
            let (client, slot, done) = (client.clone(), Arc::clone(&slot), Arc::clone(&done));
            async move {
                let mut slot = slot.lock().await;
                let registration =
                    slot.get_or_insert_with(|| client.inner.watcher.register(&client, id));
                match registration.next(&client, id).await {
                    Delivery::Settled(settled) => verdict(id, &done, settled).map(PollStep::Done),
                    Delivery::Pending(state, retry_after) => Ok(PollStep::Pending {
                        status: status(state),
                        retry_after,
                    }),
                    Delivery::Failed(err) => Err(err),
                }
            }
        })
        .with_error_policy(ConsecutiveNotFound::default())
        .driven();
        let poller = match updates {
            Some(updates) => poller.with_updates(updates),
            None => poller,
        };
        match self.timeout {
            Some(timeout) => poller.with_timeout(timeout),
            None => poller,
        }
    }

    /// The same wait polling on its own, on `options`' schedule.
    pub(crate) fn own_poller<S>(
        &self,
        status: fn(TransactionState) -> S,
        options: PollingOptions,
    ) -> Poller<T, S, Error>
    where
        S: Clone + Send + Sync + 'static,
    {
        let poller = self
            .client
            .own_commit_poller(
                self.id,
                CallOptions::default(),
                Arc::clone(&self.done),
                status,
            )
            .with_options(options);
        match self.timeout {
            Some(timeout) => poller.with_timeout(timeout),
            None => poller,
        }
    }
}

impl ConfidentialLedgerClient {
    /// A poller waiting for the commit of `id`, ending with `done(status)`: through the
    /// client's commit watcher, or on its own schedule when it has its own polling or call
    /// options.
    pub(super) fn commit_poller<T: Send + 'static>(
        &self,
        id: TransactionId,
        call: CallOptions,
        polling: Option<PollingOptions>,
        timeout: Option<Duration>,
        done: impl Fn(TransactionStatus) -> T + Send + Sync + 'static,
    ) -> TransactionPoller<T, TransactionState> {
        let done: Done<T> = Arc::new(done);
        let watched = polling.is_none()
            && call == CallOptions::default()
            && self.inner.options.polling == PollingOptions::default();
        if !watched {
            let poller = self.own_commit_poller(id, call, done, std::convert::identity);
            return TransactionPoller::new(self.configure_poller(poller, polling, timeout), id);
        }
        TransactionPoller::watched(WatchedWait {
            client: self.clone(),
            id,
            timeout: timeout.or(self.inner.options.wait_timeout),
            done,
        })
    }

    /// A commit wait polling on its own (with the default schedule: the caller sets its own).
    fn own_commit_poller<T: Send + 'static, S>(
        &self,
        id: TransactionId,
        call: CallOptions,
        done: Done<T>,
        status: fn(TransactionState) -> S,
    ) -> Poller<T, S, Error>
    where
        S: Clone + Send + Sync + 'static,
    {
        let client = self.clone();
        Poller::new(move || {
            let (client, call, done) = (client.clone(), call.clone(), Arc::clone(&done));
            async move {
                let (answer, retry_after) = client.status_poll(id, &call).await?;
                match answer.state {
                    TransactionState::Committed => Ok(PollStep::Done(done(answer))),
                    TransactionState::Invalid => Err(invalid(id)),
                    // Not before the ledger asked (`Retry-After`, capped).
                    state => Ok(PollStep::Pending {
                        status: status(state),
                        retry_after,
                    }),
                }
            }
            .instrument(Self::span("wait_for_commit", Some(id)))
        })
        .with_error_policy(ConsecutiveNotFound::default())
    }
}

/// How the wait for `id` ends when the watcher settled it.
fn verdict<T>(id: TransactionId, done: &Done<T>, settled: Settled) -> Result<T, Error> {
    match settled {
        Settled::Committed => Ok(done(TransactionStatus::new(
            id,
            TransactionState::Committed,
        ))),
        Settled::Invalid => Err(invalid(id)),
    }
}

/// The error of a wait for a rolled-back transaction.
fn invalid(id: TransactionId) -> Error {
    Error::new(
        ErrorKind::TransactionInvalid,
        format!(
            "transaction {id} is Invalid: it was rolled back and will never commit; write it \
             again if it still matters"
        ),
    )
    .with_operation("wait_for_commit")
}

//! Watching a wait from the outside: [`PollUpdate`] and the [`Progress`] stream.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{BoxStream, FusedStream, Stream, StreamExt};
use tokio::sync::watch;

/// Where a wait stands after a poll that did not finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollUpdate<S> {
    /// The latest status the service reported, `None` while every poll so far ended in an error
    /// the wait tolerates (a `404` right after a write, for instance).
    pub status: Option<S>,
    /// How many polls were made so far.
    pub polls: u32,
    /// How long the poller waits before its next poll.
    pub next_poll_in: Duration,
}

/// A stream of [`PollUpdate`]s, from [`Poller::progress`](crate::poller::Poller::progress).
///
/// It yields the latest update each time it is polled after a new one was published (a slow
/// reader sees the most recent update, not every one) and ends when the wait ends: finished,
/// failed, timed out or dropped. It starts with the current update if the wait already made
/// polls.
pub struct Progress<S> {
    inner: BoxStream<'static, PollUpdate<S>>,
    terminated: bool,
}

impl<S: Clone + Send + Sync + 'static> Progress<S> {
    pub(crate) fn new(mut receiver: watch::Receiver<Option<PollUpdate<S>>>) -> Self {
        if receiver.borrow().is_some() {
            receiver.mark_changed();
        }
        let inner = futures::stream::unfold(receiver, |mut receiver| async move {
            loop {
                receiver.changed().await.ok()?;
                let update = receiver.borrow_and_update().clone();
                if let Some(update) = update {
                    return Some((update, receiver));
                }
            }
        })
        .boxed();
        Self {
            inner,
            terminated: false,
        }
    }
}

impl<S> Stream for Progress<S> {
    type Item = PollUpdate<S>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.terminated {
            return Poll::Ready(None);
        }
        let next = self.inner.poll_next_unpin(cx);
        if let Poll::Ready(None) = next {
            self.terminated = true;
        }
        next
    }
}

impl<S> FusedStream for Progress<S> {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<S> fmt::Debug for Progress<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("terminated", &self.terminated)
            .finish_non_exhaustive()
    }
}

//! The client's commit watcher: one stream of status polls shared by all of a client's
//! outstanding commit waits.
//!
//! Each wait registers its transaction; while any wait is outstanding, one task asks the
//! ledger about a few of them per round (one per view, see [`CommitBook::targets`]) and
//! settles every wait the answers decide: a `Committed` transaction settles the earlier
//! transactions of its view, an `Invalid` one the later transactions of its view (rolled
//! back), and nothing is inferred across views. The rounds follow a [`Cadence`] learned from
//! the commits seen. The task stops when no wait is left.
//!
//! A wait with its own polling (a `polling` option, a client whose
//! [`ClientOptions::polling`](crate::ClientOptions::polling) is not the default,
//! [`TransactionPoller::with_polling`]) or its own call options polls on its own instead.

use std::collections::{BTreeMap, VecDeque};
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use super::commit_book::{CommitBook, Settled};
use super::commit_cadence::{Cadence, RoundSeen};
use super::{CallOptions, ConfidentialLedgerClient};
use crate::models::TransactionState;
use crate::poller::{ErrorClass, PollErrorClass};
use crate::{Error, TransactionId};

/// Follow-up rounds in a row after a signature, at most (each narrows the waits a commit may
/// have reached [`FOLLOW_UP_PROBES`](super::commit_book::FOLLOW_UP_PROBES) times: eight
/// bisections cover 256 times as many waits as one).
const MAX_FOLLOW_UPS: u8 = 8;

/// What the watcher tells one wait.
#[derive(Debug)]
pub(super) enum Delivery {
    Settled(Settled),
    Pending(TransactionState, Option<Duration>),
    Failed(Error),
}

#[derive(Debug)]
struct State {
    /// The outstanding waits, each with the inbox it reads what the watcher tells it from.
    book: CommitBook<Arc<Inbox>>,
    next_key: u64,
    running: bool,
    /// The number of the latest task started.
    task: u64,
    cadence: Cadence,
    /// The lowest transaction answered pending since the last signature seen, and when the
    /// latest round that saw it (or a lower one of its view) pending started: a commit of it
    /// or of a later transaction of its view shows a signature came after that round.
    last_pending: Option<(TransactionId, Instant)>,
    /// Follow-up rounds in a row so far (0: the round is not one).
    follow_ups: u8,
    /// Per view, the lowest seqno the follow-ups since the last commit seen found pending:
    /// the commit reaches no higher, so the next follow-up looks below it.
    ceilings: BTreeMap<u64, u64>,
    /// What a round decided for the waits, handed to them once the lock is released.
    postings: Vec<Posting>,
}

/// A delivery decided under the watcher's lock and handed over after it is released: waking
/// a wait's task may cost a system call, and every new wait takes the lock to register (a
/// signature may settle thousands of waits at once).
#[derive(Debug)]
struct Posting {
    inbox: Arc<Inbox>,
    delivery: Delivery,
    /// The last delivery of the wait.
    last: bool,
}

impl Posting {
    /// Queues `delivery` for `inbox` (the `last` one ends the wait) in `postings`.
    fn queue(postings: &mut Vec<Self>, inbox: Arc<Inbox>, delivery: Delivery, last: bool) {
        postings.push(Self {
            inbox,
            delivery,
            last,
        });
    }
}

/// Hands `postings` over to their waits, emptying it.
fn post(postings: &mut Vec<Posting>) {
    for posting in postings.drain(..) {
        posting.inbox.push(posting.delivery, posting.last);
    }
}

/// One per client (shared by its clones): the outstanding commit waits and the task that
/// polls for them.
#[derive(Debug, Clone)]
pub(crate) struct CommitWatcher {
    state: Arc<Mutex<State>>,
    /// Status requests sent so far.
    polls: Arc<AtomicU64>,
}

impl CommitWatcher {
    /// A watcher whose rounds are never further apart than `cap` (unless the ledger asks).
    pub(crate) fn new(cap: Duration) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                book: CommitBook::default(),
                next_key: 0,
                running: false,
                task: 0,
                cadence: Cadence::new(cap),
                last_pending: None,
                follow_ups: 0,
                ceilings: BTreeMap::new(),
                postings: Vec::new(),
            })),
            polls: Arc::default(),
        }
    }

    /// Status requests sent so far.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a wait for `id`, starting the polling task if it is not running. Must be
    /// called within a Tokio runtime.
    pub(super) fn register(
        &self,
        client: &ConfidentialLedgerClient,
        id: TransactionId,
    ) -> Registration {
        let mut state = self.lock();
        let key = state.next_key;
        state.next_key += 1;
        if let Some(settled) = state.book.known(id) {
            // Already known: answered without a request.
            return Registration {
                watcher: self.clone(),
                key: None,
                id,
                inbox: Arc::new(Inbox::closed_with(Delivery::Settled(settled))),
            };
        }
        let inbox = state.open(key, id, Instant::now());
        if !state.running {
            state.running = true;
            state.task += 1;
            let now = Instant::now();
            state.cadence.restart(now);
            let first = state.cadence.start_delay(now);
            let task = TaskGuard {
                watcher: self.clone(),
                task: state.task,
            };
            tokio::spawn(self.clone().run(client.clone(), first, task));
        }
        Registration {
            watcher: self.clone(),
            key: Some(key),
            id,
            inbox,
        }
    }

    /// The polling task: rounds until no wait is left.
    async fn run(self, client: ConfidentialLedgerClient, first: Duration, _task: TaskGuard) {
        tokio::time::sleep(first).await;
        let mut postings = Vec::new();
        loop {
            let targets = {
                let mut state = self.lock();
                if state.book.is_empty() {
                    state.running = false;
                    return;
                }
                state.round_targets()
            };
            let call = CallOptions::default();
            self.polls
                .fetch_add(targets.len() as u64, Ordering::Relaxed);
            let started = Instant::now();
            let answers = futures::future::join_all(targets.iter().map(|&id| {
                client
                    .status_poll(id, &call)
                    .instrument(ConfidentialLedgerClient::span("wait_for_commit", Some(id)))
            }))
            .await;
            let ended = Instant::now();
            let answers = answers
                .into_iter()
                .map(|answer| answer.map(|(status, wait)| (status.state, wait)));
            let delay = {
                let mut state = self.lock();
                let delay = state.finish_round(&targets, answers, started, ended);
                std::mem::swap(&mut state.postings, &mut postings);
                delay
            };
            post(&mut postings);
            tokio::time::sleep(delay).await;
        }
    }
}

impl State {
    /// Starts a wait for `id` (begun at `at`) under `key`: its inbox.
    fn open(&mut self, key: u64, id: TransactionId, at: Instant) -> Arc<Inbox> {
        let inbox = Arc::new(Inbox::default());
        self.book.add_at(key, id, at, Arc::clone(&inbox));
        inbox
    }

    /// The transactions the next round asks about.
    fn round_targets(&mut self) -> Vec<TransactionId> {
        if self.cadence.take_follow_up() {
            self.follow_ups = self.follow_ups.saturating_add(1);
            return self.book.follow_up_targets(&self.ceilings);
        }
        self.follow_ups = 0;
        self.ceilings.clear();
        self.book.targets()
    }

    /// A round that asked about `targets` from `started` to `ended` got `answers` (in the
    /// same order): settles the waits they decide, teaches the cadence, and returns the delay
    /// until the next round.
    fn finish_round(
        &mut self,
        targets: &[TransactionId],
        answers: impl IntoIterator<Item = Result<(TransactionState, Option<Duration>), Error>>,
        started: Instant,
        ended: Instant,
    ) -> Duration {
        let mut seen = RoundSeen {
            ended,
            signature_since: None,
            committed_waited_since: None,
            retry_after: None,
        };
        let mut any_committed = false;
        for (&id, answer) in targets.iter().zip(answers) {
            // Since when it was waited for, read before the answer settles its waits.
            let waited_since = self.book.waited_since(id);
            let asked = match answer {
                Ok((state, wait)) => {
                    let committed = state == TransactionState::Committed;
                    self.apply(id, state, wait, started, &mut seen);
                    any_committed |= committed;
                    // (No answer of this round, this one included, timed a signature.)
                    if committed
                        && self.follow_ups == 0
                        && seen.signature_since.is_none()
                        && let Some(since) = waited_since
                    {
                        // Committed at first sight.
                        seen.committed_waited_since =
                            Some(seen.committed_waited_since.map_or(since, |s| s.max(since)));
                    }
                    wait
                }
                Err(err) => {
                    self.fail(id, &err, started);
                    err.retry_after()
                }
            };
            seen.retry_after = seen.retry_after.max(asked);
        }
        self.cadence.on_round(seen);
        // A commit reached some of the waits, maybe more: find how far. A follow-up whose
        // probes were all pending leaves the waits below them unknown: look there (else
        // they would wait for the next signature's rounds, though committed).
        let unknown_below = self.follow_ups > 0 && self.book.waits_below(&self.ceilings);
        if self.follow_ups < MAX_FOLLOW_UPS
            && (any_committed || unknown_below)
            && !self.book.is_empty()
        {
            self.cadence.follow_up_again();
        }
        self.cadence.next_delay(ended)
    }

    /// The ledger said `id` is in `state`, answering a round that started at `round`; a
    /// signature this shows goes into `seen`. Returns whether it is still pending.
    fn apply(
        &mut self,
        id: TransactionId,
        state: TransactionState,
        wait: Option<Duration>,
        round: Instant,
        seen: &mut RoundSeen,
    ) -> bool {
        let settled = match state {
            TransactionState::Committed => {
                if let Some((pending, since)) = self.last_pending
                    && pending.view == id.view
                    && pending.seqno <= id.seqno
                {
                    // Pending before, committed now: a signature came in between.
                    seen.signature_since = Some(since);
                    self.last_pending = None;
                }
                Settled::Committed
            }
            TransactionState::Invalid => Settled::Invalid,
            pending => {
                self.saw_pending(id, round);
                if self.follow_ups > 0 {
                    let ceiling = self.ceilings.entry(id.view).or_insert(id.seqno);
                    *ceiling = (*ceiling).min(id.seqno);
                }
                for inbox in self.book.waiting_for(id) {
                    let delivery = Delivery::Pending(pending.clone(), wait);
                    Posting::queue(&mut self.postings, Arc::clone(inbox), delivery, false);
                }
                return true;
            }
        };
        let postings = &mut self.postings;
        self.book.settle(id, settled, |inbox| {
            Posting::queue(postings, inbox, Delivery::Settled(settled), true);
        });
        false
    }

    fn saw_pending(&mut self, id: TransactionId, round: Instant) {
        self.last_pending = match self.last_pending {
            // A later transaction pending says nothing the lower one does not.
            Some((lowest, since)) if lowest.view == id.view && lowest.seqno < id.seqno => {
                Some((lowest, since))
            }
            _ => Some((id, round)),
        };
    }

    /// Asking about `id` in a round that started at `round` failed: its waits get the error
    /// (a final one ends them).
    fn fail(&mut self, id: TransactionId, err: &Error, round: Instant) {
        let class = err.poll_error_class();
        if class == ErrorClass::StillPending {
            self.saw_pending(id, round);
        }
        if class == ErrorClass::Final {
            // The last word: the watcher forgets the waits.
            let postings = &mut self.postings;
            self.book.remove_all_for(id, |inbox| {
                Posting::queue(postings, inbox, Delivery::Failed(err.replicate()), true);
            });
        } else {
            for inbox in self.book.waiting_for(id) {
                let delivery = Delivery::Failed(err.replicate());
                Posting::queue(&mut self.postings, Arc::clone(inbox), delivery, false);
            }
        }
    }
}

/// Marks the watcher idle when its task ends in any way, including being dropped with its
/// runtime (a later wait, in another runtime, then starts a new task instead of waiting for
/// one that is gone).
#[derive(Debug)]
struct TaskGuard {
    watcher: CommitWatcher,
    task: u64,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let mut state = self.watcher.lock();
        if state.task == self.task {
            state.running = false;
        }
    }
}

/// One wait's place in the watcher; dropping it withdraws the wait.
#[derive(Debug)]
pub(super) struct Registration {
    watcher: CommitWatcher,
    /// The wait's key (`None`: answered at once, from what the watcher knew).
    key: Option<u64>,
    /// The transaction waited for (with the key, where the watcher keeps the wait).
    id: TransactionId,
    inbox: Arc<Inbox>,
}

impl Registration {
    /// The watcher's next word about the wait for `id`. A wait the watcher already ended (a
    /// final answer was delivered, and the wait is asked again) is registered anew.
    pub(super) async fn next(
        &mut self,
        client: &ConfidentialLedgerClient,
        id: TransactionId,
    ) -> Delivery {
        loop {
            if let Some(delivery) = poll_fn(|cx| self.inbox.poll_next(cx)).await {
                return delivery;
            }
            *self = self.watcher.register(client, id);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // A closed inbox: the watcher already forgot the wait.
        if let Some(key) = self.key
            && !self.inbox.lock().closed
        {
            self.watcher.lock().book.remove(key, self.id);
        }
    }
}

/// What the watcher told one wait and the wait has not read yet: one allocation per wait,
/// shared by the watcher (which writes) and the wait (which reads).
#[derive(Debug, Default)]
pub(super) struct Inbox(Mutex<InboxState>);

#[derive(Debug, Default)]
struct InboxState {
    /// The next delivery, then the ones after it (rare: pending answers about the wait's own
    /// transaction, then its settlement).
    next: Option<Delivery>,
    later: VecDeque<Delivery>,
    /// The watcher is done with the wait: nothing comes after the deliveries queued.
    closed: bool,
    /// The task reading, while it waits for a delivery.
    reader: Option<Waker>,
}

impl Inbox {
    /// An inbox holding only `delivery`.
    fn closed_with(delivery: Delivery) -> Self {
        Self(Mutex::new(InboxState {
            next: Some(delivery),
            closed: true,
            ..InboxState::default()
        }))
    }

    fn lock(&self) -> MutexGuard<'_, InboxState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `delivery` (the `last` one closes the inbox) and wakes the reader.
    fn push(&self, delivery: Delivery, last: bool) {
        let reader = {
            let mut inbox = self.lock();
            if inbox.next.is_none() {
                inbox.next = Some(delivery);
            } else {
                inbox.later.push_back(delivery);
            }
            inbox.closed |= last;
            inbox.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    /// The next delivery, if one is queued.
    #[cfg(test)]
    pub(super) fn try_next(&self) -> Option<Delivery> {
        let mut inbox = self.lock();
        let delivery = inbox.next.take()?;
        inbox.next = inbox.later.pop_front();
        Some(delivery)
    }

    /// The next delivery; `None` once the inbox is closed and read.
    fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        let mut inbox = self.lock();
        if let Some(delivery) = inbox.next.take() {
            inbox.next = inbox.later.pop_front();
            return Poll::Ready(Some(delivery));
        }
        if inbox.closed {
            return Poll::Ready(None);
        }
        match &mut inbox.reader {
            Some(reader) if reader.will_wake(cx.waker()) => {}
            reader => *reader = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl ConfidentialLedgerClient {
    /// How many status requests this client's commit watcher has sent (over all its clones):
    /// the cost of all its commit waits but those that poll on their own.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let before = client.commit_watcher_polls();
    /// client.create_ledger_entry_and_wait("counted", None).await?;
    /// println!("{} status requests", client.commit_watcher_polls() - before);
    /// # Ok(()) }
    /// ```
    pub fn commit_watcher_polls(&self) -> u64 {
        self.inner.watcher.polls()
    }
}

#[cfg(test)]
mod simulation;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn only_a_commit_of_a_transaction_seen_pending_times_a_signature() {
        let watcher = CommitWatcher::new(Duration::from_secs(1));
        let mut state = watcher.lock();
        let start = Instant::now();
        let ms = Duration::from_millis(1);
        let mut seen = RoundSeen {
            ended: start,
            signature_since: None,
            committed_waited_since: None,
            retry_after: None,
        };
        let committed = TransactionState::Committed;
        // Committed at first sight: the signature may be old, nothing to time.
        assert!(!state.apply(
            TransactionId::new(2, 5),
            committed.clone(),
            None,
            start,
            &mut seen
        ));
        assert_eq!(seen.signature_since, None);
        let pending = TransactionState::Pending;
        assert!(state.apply(
            TransactionId::new(2, 9),
            pending,
            None,
            start + 10 * ms,
            &mut seen
        ));
        assert_eq!(seen.signature_since, None);
        // Another view's commit says nothing about view 2's signatures.
        state.apply(
            TransactionId::new(3, 20),
            committed.clone(),
            None,
            start + 20 * ms,
            &mut seen,
        );
        assert_eq!(seen.signature_since, None);
        state.apply(
            TransactionId::new(2, 12),
            committed.clone(),
            None,
            start + 30 * ms,
            &mut seen,
        );
        assert_eq!(
            seen.signature_since,
            Some(start + 10 * ms),
            "pending 2.9 in the round at 10 ms, then 2.12 committed: a signature in between"
        );
        // The same signature seen again through another transaction is not a new one.
        seen.signature_since = None;
        state.apply(
            TransactionId::new(2, 14),
            committed,
            None,
            start + 40 * ms,
            &mut seen,
        );
        assert_eq!(seen.signature_since, None);
    }

    #[tokio::test(start_paused = true)]
    async fn follow_ups_look_below_the_probes_they_found_pending() {
        let watcher = CommitWatcher::new(Duration::from_secs(1));
        let mut state = watcher.lock();
        let now = Instant::now();
        let inboxes: Vec<_> = (10..=20)
            .map(|seqno| state.open(seqno, TransactionId::new(2, seqno), now))
            .collect();
        let answer = |state: &mut State, targets: &[TransactionId], committed_up_to: u64| {
            let answers = targets.iter().map(|id| {
                let state = if id.seqno <= committed_up_to {
                    TransactionState::Committed
                } else {
                    TransactionState::Pending
                };
                Ok((state, None))
            });
            state.finish_round(targets, answers, now, now);
            post(&mut state.postings);
        };
        // A signature committed up to 12. The round asks about the lowest wait: committed.
        let targets = state.round_targets();
        assert_eq!(targets, [TransactionId::new(2, 10)]);
        answer(&mut state, &targets, 12);
        // The follow-up spreads over 11..=20: both pending.
        let targets = state.round_targets();
        assert_eq!(state.follow_ups, 1);
        assert_eq!(
            targets,
            [TransactionId::new(2, 15), TransactionId::new(2, 20)]
        );
        answer(&mut state, &targets, 12);
        // 11..=14 are still unknown: the next follow-up looks there, not at 15 and 20 again.
        let targets = state.round_targets();
        assert_eq!(
            state.follow_ups, 2,
            "a follow-up after one that found only pending"
        );
        assert_eq!(
            targets,
            [TransactionId::new(2, 12), TransactionId::new(2, 14)]
        );
        answer(&mut state, &targets, 12);
        // 11 and 12 settled; 13 is all that is left below the ceiling (14).
        let targets = state.round_targets();
        assert_eq!(targets, [TransactionId::new(2, 13)]);
        answer(&mut state, &targets, 12);
        // Nothing unknown below the ceiling: the follow-ups end.
        let targets = state.round_targets();
        assert_eq!(state.follow_ups, 0, "{targets:?}");
        let settled: Vec<u64> = (10..=20)
            .filter(|&seqno| {
                matches!(
                    inboxes[(seqno - 10) as usize].try_next(),
                    Some(Delivery::Settled(Settled::Committed))
                )
            })
            .collect();
        assert_eq!(settled, [10, 11, 12]);
    }

    #[tokio::test]
    async fn an_inbox_hands_out_its_deliveries_in_order_then_ends() {
        let inbox = Arc::new(Inbox::default());
        let reader = {
            let inbox = Arc::clone(&inbox);
            tokio::spawn(async move {
                let mut read = Vec::new();
                while let Some(delivery) = poll_fn(|cx| inbox.poll_next(cx)).await {
                    read.push(format!("{delivery:?}"));
                }
                read
            })
        };
        tokio::task::yield_now().await;
        inbox.push(Delivery::Pending(TransactionState::Pending, None), false);
        inbox.push(
            Delivery::Pending(TransactionState::Pending, Some(Duration::from_secs(1))),
            false,
        );
        inbox.push(Delivery::Settled(Settled::Committed), true);
        let read = reader.await.unwrap();
        assert_eq!(
            read,
            [
                "Pending(Pending, None)",
                "Pending(Pending, Some(1s))",
                "Settled(Committed)"
            ]
        );
        assert_eq!(inbox.try_next().map(|d| format!("{d:?}")), None);
    }
}

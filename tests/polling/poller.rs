//! The poller with fake step functions, in virtual time: delays, the wait-for-commit and
//! wait-out-Loading policies, timeouts, progress, manual stepping and cancellation.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use confidential_ledger::poller::{
    ConsecutiveNotFound, PollError, PollStep, PollUpdate, Poller, PollingOptions, TimedOut,
};
use futures::StreamExt;

use crate::support::{CallLog, DropFlag, FakeError, ms};

/// The transaction status the status endpoint reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Committed,
    Invalid,
}

/// One scripted answer of the fake status endpoint.
#[derive(Debug, Clone)]
enum Answer {
    State(State),
    StateAfter(State, Duration),
    Error(FakeError),
}

use Answer::Error as Fail;
const PENDING: Answer = Answer::State(State::Pending);
const COMMITTED: Answer = Answer::State(State::Committed);

fn not_found() -> Answer {
    Fail(FakeError::status(404))
}

fn not_acceptable() -> Answer {
    Fail(FakeError::status(406))
}

fn exact() -> PollingOptions {
    PollingOptions {
        jitter: 0.0,
        ..Default::default()
    }
}

/// A fake `GET /app/transactions/{id}/status`: plays `script`, then stays pending.
fn status_endpoint(
    script: Vec<Answer>,
) -> (
    CallLog<()>,
    impl FnMut() -> futures::future::BoxFuture<'static, Result<State, FakeError>> + Send + 'static,
) {
    let log = CallLog::new();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let calls = log.clone();
    let endpoint = move || {
        calls.record(());
        let answer = script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .unwrap_or(PENDING);
        let future = async move {
            match answer {
                Answer::State(state) => Ok(state),
                Answer::StateAfter(state, delay) => {
                    tokio::time::sleep(delay).await;
                    Ok(state)
                }
                Answer::Error(error) => Err(error),
            }
        };
        Box::pin(future) as futures::future::BoxFuture<'static, _>
    };
    (log, endpoint)
}

/// What the client's `wait_for_commit` does with its step function and error type.
fn wait_for_commit(script: Vec<Answer>) -> (CallLog<()>, Poller<State, State, FakeError>) {
    let (log, mut endpoint) = status_endpoint(script);
    let poller = Poller::new(move || {
        let request = endpoint();
        async move {
            match request.await? {
                State::Committed => Ok(PollStep::Done(State::Committed)),
                State::Pending => Ok(PollStep::pending(State::Pending)),
                State::Invalid => Err(FakeError::InvalidTransaction),
            }
        }
    })
    .with_options(exact())
    .with_error_policy(ConsecutiveNotFound::default());
    (log, poller)
}

fn assert_gaps(log: &CallLog<()>, expected_ms: &[f64]) {
    let gaps = log.gaps();
    assert_eq!(gaps.len(), expected_ms.len(), "gaps {gaps:?}");
    for (gap, expected) in gaps.iter().zip(expected_ms) {
        // The timer wheel has a resolution of one millisecond.
        let diff = gap.abs_diff(ms(*expected));
        assert!(diff <= ms(1.0), "gaps {gaps:?}, expected {expected_ms:?}");
    }
}

/// Equal to the microsecond (delays are computed in floating point).
fn assert_close(actual: Duration, expected_ms: f64) {
    assert!(
        actual.abs_diff(ms(expected_ms)) <= Duration::from_micros(1),
        "{actual:?} != {expected_ms} ms"
    );
}

const SCHEDULE: [f64; 11] = [
    25.0,
    37.5,
    56.25,
    84.375,
    126.5625,
    189.84375,
    284.765625,
    427.1484375,
    640.72265625,
    961.083984375,
    1000.0,
];

#[tokio::test(start_paused = true)]
async fn commits_after_pending_polls_first_poll_immediate_then_growing_delays() {
    let (log, poller) = wait_for_commit(vec![PENDING, PENDING, PENDING, PENDING, COMMITTED]);
    assert_eq!(
        log.count(),
        0,
        "nothing happens before the poller is awaited"
    );

    assert_eq!(poller.await.unwrap(), State::Committed);
    assert_eq!(log.times()[0], Duration::ZERO);
    assert_gaps(&log, &SCHEDULE[..4]);
}

#[tokio::test(start_paused = true)]
async fn delays_grow_to_the_cap_and_stay_there() {
    let mut script = vec![PENDING; 20];
    script.push(COMMITTED);
    let (log, poller) = wait_for_commit(script);
    poller.await.unwrap();

    let mut expected = SCHEDULE.to_vec();
    expected.resize(20, 1000.0);
    assert_gaps(&log, &expected);
}

#[tokio::test(start_paused = true)]
async fn jittered_delays_only_shorten_within_the_fraction() {
    let mut script = vec![PENDING; 30];
    script.push(COMMITTED);
    let (log, poller) = wait_for_commit(script);
    poller
        .with_options(PollingOptions::default())
        .await
        .unwrap();

    let gaps = log.gaps();
    let mut expected = SCHEDULE.to_vec();
    expected.resize(30, 1000.0);
    for (gap, base) in gaps.iter().zip(&expected) {
        assert!(*gap <= ms(base + 1.0), "{gap:?} above {base} ms");
        assert!(
            *gap >= ms(base * 0.8 - 1.0),
            "{gap:?} below 80% of {base} ms"
        );
    }
    assert!(
        gaps[11..].iter().any(|gap| *gap < ms(990.0)),
        "no jitter: {gaps:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_406_is_still_pending() {
    let (log, poller) = wait_for_commit(vec![
        not_acceptable(),
        not_acceptable(),
        PENDING,
        not_acceptable(),
        COMMITTED,
    ]);
    assert_eq!(poller.await.unwrap(), State::Committed);
    assert_eq!(log.count(), 5);
    assert_gaps(&log, &SCHEDULE[..4]);
}

#[tokio::test(start_paused = true)]
async fn up_to_three_consecutive_404s_are_tolerated() {
    let (log, poller) = wait_for_commit(vec![not_found(), not_found(), not_found(), COMMITTED]);
    assert_eq!(poller.await.unwrap(), State::Committed);
    assert_eq!(log.count(), 4);
}

#[tokio::test(start_paused = true)]
async fn the_fourth_consecutive_404_fails_and_nothing_more_is_sent() {
    let (log, poller) = wait_for_commit(vec![not_found(); 10]);
    let error = poller.await.unwrap_err();
    assert!(matches!(
        error,
        PollError::Failed(FakeError::Http {
            status: 404,
            code: None
        })
    ));
    assert_eq!(log.count(), 4);

    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(log.count(), 4);
}

#[tokio::test(start_paused = true)]
async fn the_404_count_resets_on_any_other_answer() {
    let (log, poller) = wait_for_commit(vec![
        not_found(),
        not_found(),
        not_found(),
        not_acceptable(),
        not_found(),
        not_found(),
        not_found(),
        PENDING,
        not_found(),
        not_found(),
        not_found(),
        COMMITTED,
    ]);
    assert_eq!(poller.await.unwrap(), State::Committed);
    assert_eq!(log.count(), 12);
}

#[tokio::test(start_paused = true)]
async fn a_404_invalid_transaction_id_fails_at_once() {
    let (log, poller) = wait_for_commit(vec![Fail(FakeError::coded(404, "InvalidTransactionId"))]);
    let error = poller.await.unwrap_err();
    assert_eq!(
        error.into_failure(),
        Some(FakeError::coded(404, "InvalidTransactionId"))
    );
    assert_eq!(log.count(), 1);

    // Even after tolerated 404s.
    let (log, poller) = wait_for_commit(vec![
        not_found(),
        not_found(),
        Fail(FakeError::coded(404, "InvalidTransactionId")),
    ]);
    assert!(poller.await.is_err());
    assert_eq!(log.count(), 3);
}

#[tokio::test(start_paused = true)]
async fn state_invalid_fails_at_once() {
    let (log, poller) = wait_for_commit(vec![PENDING, Answer::State(State::Invalid), COMMITTED]);
    let error = poller.await.unwrap_err();
    assert!(matches!(
        error,
        PollError::Failed(FakeError::InvalidTransaction)
    ));
    assert_eq!(log.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn other_errors_fail_at_once_and_by_default_every_error_does() {
    let (log, poller) = wait_for_commit(vec![Fail(FakeError::status(403)), COMMITTED]);
    assert!(poller.await.is_err());
    assert_eq!(log.count(), 1);

    // Without an error policy (FailFast), even a 404 ends the wait.
    let (log, mut endpoint) = status_endpoint(vec![not_found(), COMMITTED]);
    let poller = Poller::new(move || {
        let request = endpoint();
        async move { request.await.map(PollStep::<State, State>::Done) }
    });
    assert!(matches!(
        poller.await,
        Err(PollError::Failed(FakeError::Http { status: 404, .. }))
    ));
    assert_eq!(log.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_timeout_is_a_distinct_outcome_after_exactly_the_timeout() {
    let (log, poller) = wait_for_commit(vec![]);
    let start = tokio::time::Instant::now();
    let error = poller
        .with_timeout(Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(5));

    // Polls at 0, 25, 62.5, 118.75, 203.1, 329.7, 519.5, 804.3, 1231.4, 1872.2, 2833.3, 3833.3
    // and 4833.3 ms; the next would come after the deadline.
    let PollError::TimedOut(TimedOut { waited, polls }) = error else {
        panic!("expected a timeout, got {error:?}");
    };
    assert_eq!(waited, Duration::from_secs(5));
    assert_eq!(polls, 13);
    assert_eq!(log.count(), 13);
    assert!(
        log.times()
            .iter()
            .all(|time| *time < Duration::from_secs(5))
    );
}

#[tokio::test(start_paused = true)]
async fn the_timeout_cuts_a_poll_in_flight_and_drops_it() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let flag = dropped.clone();
    let poller = Poller::new(move || {
        let guard = DropFlag(flag.clone());
        async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(guard);
            Ok::<_, FakeError>(PollStep::<(), ()>::Done(()))
        }
    })
    .with_timeout(Duration::from_secs(2));
    let start = tokio::time::Instant::now();
    let error = poller.await.unwrap_err();
    assert!(error.is_timeout());
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    assert_eq!(error.to_string(), "still pending after waiting 2s (1 poll)");
}

#[tokio::test(start_paused = true)]
async fn a_slow_poll_finishing_before_the_timeout_counts() {
    let (log, poller) = wait_for_commit(vec![
        Answer::StateAfter(State::Pending, Duration::from_millis(900)),
        Answer::StateAfter(State::Committed, Duration::from_millis(900)),
    ]);
    let result = poller.with_timeout(Duration::from_secs(2)).await;
    assert_eq!(result.unwrap(), State::Committed);
    assert_eq!(log.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_as_a_lower_bound() {
    let answers = Arc::new(Mutex::new(VecDeque::from([
        Some(Duration::from_secs(3)),
        Some(Duration::ZERO),
        None,
    ])));
    let log = CallLog::new();
    let calls = log.clone();
    let poller = Poller::new(move || {
        calls.record(());
        let next = answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        async move {
            Ok::<_, FakeError>(match next {
                Some(Some(retry_after)) => PollStep::Pending {
                    status: (),
                    retry_after: Some(retry_after),
                },
                _ => PollStep::Done(()),
            })
        }
    })
    .with_options(exact());
    poller.await.unwrap();
    // 3 s as asked; then `Retry-After: 0` does not beat the schedule's 37.5 ms.
    assert_gaps(&log, &[3000.0, 37.5]);
}

#[tokio::test(start_paused = true)]
async fn progress_reports_every_pending_poll_and_ends_with_the_wait() {
    let (_log, poller) = wait_for_commit(vec![
        not_found(),
        PENDING,
        not_acceptable(),
        PENDING,
        COMMITTED,
    ]);
    let progress = poller.progress();
    let watcher = tokio::spawn(progress.collect::<Vec<_>>());

    assert_eq!(poller.await.unwrap(), State::Committed);
    let updates = watcher.await.unwrap();
    let seen: Vec<_> = updates
        .iter()
        .map(|PollUpdate { status, polls, .. }| (*status, *polls))
        .collect();
    assert_eq!(
        seen,
        [
            (None, 1),
            (Some(State::Pending), 2),
            (Some(State::Pending), 3),
            (Some(State::Pending), 4),
        ]
    );
    for (update, expected) in updates.iter().zip(SCHEDULE) {
        assert_close(update.next_poll_in, expected);
    }
}

#[tokio::test(start_paused = true)]
async fn a_late_watcher_starts_with_the_latest_update() {
    let (_log, mut poller) = wait_for_commit(vec![PENDING, PENDING, COMMITTED]);
    assert_eq!(poller.poll_once().await.unwrap(), None);
    assert_eq!(poller.poll_once().await.unwrap(), None);

    let mut progress = poller.progress();
    let first = progress.next().await.unwrap();
    assert_eq!(first.polls, 2);
    assert_eq!(first.status, Some(State::Pending));

    assert_eq!(poller.await.unwrap(), State::Committed);
    assert_eq!(progress.next().await, None);
}

#[tokio::test(start_paused = true)]
async fn progress_ends_when_the_wait_fails_or_is_dropped() {
    let (_log, poller) = wait_for_commit(vec![PENDING, Fail(FakeError::status(500))]);
    let progress = poller.progress();
    assert!(poller.await.is_err());
    assert_eq!(progress.collect::<Vec<_>>().await.len(), 1);

    let (_log, poller) = wait_for_commit(vec![]);
    let progress = poller.progress();
    drop(poller);
    assert!(progress.collect::<Vec<_>>().await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn poll_once_steps_by_hand() {
    let (log, mut poller) = wait_for_commit(vec![not_found(), PENDING, COMMITTED, PENDING]);
    assert_eq!(poller.next_delay(), Duration::ZERO);
    assert_eq!(poller.status(), None);

    assert_eq!(poller.poll_once().await.unwrap(), None);
    assert_eq!((poller.status(), poller.polls()), (None, 1));
    assert_close(poller.next_delay(), 25.0);

    assert_eq!(poller.poll_once().await.unwrap(), None);
    assert_eq!(poller.status(), Some(&State::Pending));
    assert_close(poller.next_delay(), 37.5);

    assert_eq!(poller.poll_once().await.unwrap(), Some(State::Committed));
    assert_eq!(poller.next_delay(), Duration::ZERO);
    // Manual stepping never sleeps: all three polls at time zero.
    assert_eq!(log.times(), [Duration::ZERO; 3]);

    // After `Done`, another call polls again.
    assert_eq!(poller.poll_once().await.unwrap(), None);
    assert_eq!(log.count(), 4);
}

#[tokio::test(start_paused = true)]
async fn poll_once_respects_the_timeout() {
    let (log, poller) = wait_for_commit(vec![]);
    let mut poller = poller.with_timeout(Duration::from_secs(1));
    assert_eq!(poller.poll_once().await.unwrap(), None);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let error = poller.poll_once().await.unwrap_err();
    assert_eq!(error.to_string(), "still pending after waiting 1s (1 poll)");
    assert_eq!(log.count(), 1, "no request after the deadline");
}

#[tokio::test(start_paused = true)]
async fn dropping_the_wait_cancels_it_and_leaves_nothing_behind() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let log = CallLog::new();
    let (calls, flag) = (log.clone(), dropped.clone());
    let poller = Poller::new(move || {
        calls.record(());
        let guard = DropFlag(flag.clone());
        async move {
            // Every poll takes 100 ms and finds the operation pending.
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(guard);
            Ok::<_, FakeError>(PollStep::<(), &str>::pending("Pending"))
        }
    })
    .with_options(exact());
    let progress = poller.progress();

    // Give up from the outside after 300 ms: in the middle of the third poll.
    let outcome = tokio::time::timeout(Duration::from_millis(300), poller).await;
    assert!(outcome.is_err());
    assert_eq!(log.count(), 3);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        3,
        "the poll in flight was dropped"
    );

    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(log.count(), 3, "no poll after the drop");
    assert_eq!(progress.count().await, 1, "the progress stream ended");
}

#[tokio::test(start_paused = true)]
async fn waiting_out_loading_for_an_entry() {
    // `get_ledger_entry` / `get_receipt`: `{"state": "Loading"}` until `{"state": "Ready", ...}`.
    let log = CallLog::new();
    let calls = log.clone();
    let poller = Poller::new(move || {
        let n = calls.record(());
        async move {
            Ok::<_, FakeError>(if n < 4 {
                PollStep::pending("Loading")
            } else {
                PollStep::Done(format!("entry after {n} requests"))
            })
        }
    })
    .with_options(exact())
    .with_timeout(Duration::from_secs(60));
    assert_eq!(poller.await.unwrap(), "entry after 4 requests");
    assert_gaps(&log, &SCHEDULE[..3]);
}

#[tokio::test(start_paused = true)]
async fn a_long_wait_costs_at_most_one_poll_a_second() {
    let (log, poller) = wait_for_commit(vec![]);
    let error = poller
        .with_timeout(Duration::from_secs(600))
        .await
        .unwrap_err();
    assert!(error.is_timeout());
    // 11 polls in the first 2.9 s (the last at 2833 ms), then one a second.
    let polls = log.count();
    assert_eq!(polls, 11 + 597);
    let gaps = log.gaps();
    assert!(gaps.windows(2).all(|w| w[0] <= w[1]), "delays never shrink");
    assert!(gaps.iter().all(|gap| *gap <= Duration::from_secs(1)));
}

#[tokio::test(start_paused = true)]
async fn a_fixed_interval_reproduces_the_official_clients() {
    let (log, poller) = wait_for_commit(vec![PENDING, PENDING, COMMITTED]);
    poller
        .with_options(PollingOptions::fixed(Duration::from_millis(500)))
        .await
        .unwrap();
    assert_gaps(&log, &[500.0, 500.0]);
}

#[test]
fn pollers_and_their_futures_are_send() {
    fn send<T: Send>() {}
    send::<Poller<State, State, FakeError>>();
    send::<confidential_ledger::poller::PollFuture<State, FakeError>>();
    send::<confidential_ledger::poller::Progress<State>>();
}

#[test]
fn poll_errors_convert_into_the_callers_error() {
    #[derive(Debug, PartialEq)]
    enum ClientError {
        Timeout(Duration),
        Service(u16),
    }
    impl From<TimedOut> for ClientError {
        fn from(timed_out: TimedOut) -> Self {
            Self::Timeout(timed_out.waited)
        }
    }
    let timed_out = PollError::<ClientError>::TimedOut(TimedOut {
        waited: Duration::from_secs(3),
        polls: 4,
    });
    assert!(timed_out.is_timeout());
    assert_eq!(
        timed_out.into_error(),
        ClientError::Timeout(Duration::from_secs(3))
    );
    let failed = PollError::Failed(ClientError::Service(503));
    assert!(!failed.is_timeout());
    assert_eq!(failed.into_error(), ClientError::Service(503));
}

//! [`CachedTokenCredential`]: token reuse, early refresh in the background, one request at
//! a time, bounded.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{AccessToken, CredentialError, TokenCredential};

/// How long before a token's expiry [`CachedTokenCredential`] fetches a new one by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How long [`CachedTokenCredential`] waits for one token request by default.
pub const DEFAULT_REFRESH_TIMEOUT: Duration = Duration::from_secs(30);

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Wraps a [`TokenCredential`] and reuses its tokens until shortly before they expire.
///
/// # Behaviour
///
/// - A token is reused until `refresh margin` (default [`DEFAULT_REFRESH_MARGIN`], 5 minutes)
///   before it expires, but never refreshed before half of its lifetime has passed, so a
///   credential that hands out short-lived tokens is not asked on every call.
/// - **A refresh never holds up a caller while the cached token is still valid**: the refresh
///   runs in the background (a tokio task) and callers keep getting the cached token until it
///   expires. Only a caller with no valid token waits for a request.
/// - At most one request per set of scopes is in flight: callers that arrive while a token is
///   being fetched (and have no valid token) wait for that request and share its outcome (the
///   token, or the error).
/// - Every request is bounded by the refresh timeout (default [`DEFAULT_REFRESH_TIMEOUT`],
///   30 s); one that takes longer fails with a [`CredentialError`] for which
///   [`is_timeout`](CredentialError::is_timeout) is true (the client reports it as
///   [`Timeout`](crate::ErrorKind::Timeout)).
/// - Errors are never cached: the first call after a failed request tries again.
/// - If a refresh fails while the cached token has not expired yet, that token keeps being
///   returned (and the failure logged at `WARN`); the next call after the failure tries again.
/// - Tokens are cached per set of scopes (in the order given).
/// - Dropping a caller that is waiting for a token it has none of cancels that request; the
///   next waiting caller starts a new one. A background refresh is not cancelled by callers.
/// - Outside a tokio runtime there is no background and no refresh timeout: the caller that
///   finds the token due refreshes it itself. Inside one, the refresh timeout uses tokio's
///   timer, so the runtime must have time enabled (`enable_time` or `enable_all`), as the
///   client's own timeouts need anyway.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::{
///     CachedTokenCredential, StaticTokenCredential, TokenCredential, DEFAULT_SCOPE,
/// };
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let credential = CachedTokenCredential::new(StaticTokenCredential::new("token"))
///     .with_refresh_margin(Duration::from_secs(120))
///     .with_refresh_timeout(Duration::from_secs(10));
/// let token = credential.get_token(&[DEFAULT_SCOPE]).await?;
/// assert_eq!(token.token.expose(), "token");
/// # Ok::<(), confidential_ledger::CredentialError>(())
/// # }).unwrap();
/// ```
pub struct CachedTokenCredential<C> {
    inner: Arc<C>,
    refresh_margin: Duration,
    refresh_timeout: Duration,
    slots: Mutex<HashMap<Vec<String>, Arc<Slot>>>,
    clock: Clock,
}

/// The cache for one set of scopes.
#[derive(Default)]
struct Slot {
    /// Number of token requests that have finished (successfully or not).
    finished: AtomicU64,
    /// Only held for short, non-async sections.
    state: Mutex<SlotState>,
    /// Woken when a request ends (finished or cancelled).
    done: Notify,
}

#[derive(Default)]
struct SlotState {
    token: Option<CachedToken>,
    /// The error of the most recent request, numbered by `Slot::finished` after it: shared only
    /// with callers that were waiting while that request ran.
    failure: Option<(u64, CredentialError)>,
    /// A request is in flight.
    refreshing: bool,
}

struct CachedToken {
    token: AccessToken,
    refresh_at: SystemTime,
}

/// What a caller does after looking at the slot.
enum Step {
    Done(Result<AccessToken, CredentialError>),
    /// Fetch a token itself (none is valid, nobody is fetching).
    Fetch,
    /// Start a background refresh and return the still-valid token.
    RefreshInBackground(AccessToken),
    /// Wait for the request in flight.
    Wait,
}

impl<C: TokenCredential + 'static> CachedTokenCredential<C> {
    /// Caches the tokens of `inner`, refreshing them [`DEFAULT_REFRESH_MARGIN`] before expiry.
    pub fn new(inner: C) -> Self {
        Self {
            inner: Arc::new(inner),
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            refresh_timeout: DEFAULT_REFRESH_TIMEOUT,
            slots: Mutex::new(HashMap::new()),
            clock: Arc::new(SystemTime::now),
        }
    }

    /// Refresh tokens this long before they expire (still no earlier than half-way through
    /// their lifetime).
    #[must_use]
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Give up on a token request after `timeout` (default [`DEFAULT_REFRESH_TIMEOUT`]).
    #[must_use]
    pub fn with_refresh_timeout(mut self, timeout: Duration) -> Self {
        self.refresh_timeout = timeout;
        self
    }

    /// The wrapped credential.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    #[cfg(test)]
    fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn slot(&self, scopes: &[&str]) -> Arc<Slot> {
        let key: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        // The map is only touched in this non-async block; a poisoned lock still holds a
        // consistent map.
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(key).or_default())
    }

    /// Decides what a caller does; `seen` is the number of finished requests when it
    /// started waiting (if it did).
    fn step(&self, slot: &Slot, seen: Option<u64>, background: bool) -> Step {
        let mut state = slot.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = (self.clock)();
        let valid = state
            .token
            .as_ref()
            .filter(|cached| now < cached.token.expires_on)
            .map(|cached| (cached.token.clone(), now < cached.refresh_at));
        if let Some((token, fresh)) = &valid
            && (*fresh || state.refreshing)
        {
            return Step::Done(Ok(token.clone()));
        }
        // A request finished while this caller waited: share its failure.
        let finished = slot.finished.load(Ordering::Acquire);
        if let (Some(seen), Some((number, err))) = (seen, &state.failure)
            && finished != seen
            && *number == finished
        {
            return Step::Done(Err(err.clone()));
        }
        if state.refreshing {
            return Step::Wait;
        }
        state.refreshing = true;
        match valid {
            Some((token, _)) if background => Step::RefreshInBackground(token),
            _ => Step::Fetch,
        }
    }

    /// One bounded request, stored in the slot; `fetched_at` is when it started.
    async fn fetch(
        inner: &C,
        slot: &Slot,
        scopes: &[&str],
        timeout: Duration,
        margin: Duration,
        clock: &Clock,
    ) -> Result<AccessToken, CredentialError> {
        let started = clock();
        // tokio's timer needs a runtime; outside one the request is not bounded here.
        let result = if tokio::runtime::Handle::try_current().is_ok() {
            match tokio::time::timeout(timeout, inner.get_token(scopes)).await {
                Ok(result) => result,
                Err(_) => Err(CredentialError::timed_out(format!(
                    "the token request did not finish within {timeout:?}"
                ))),
            }
        } else {
            inner.get_token(scopes).await
        };
        let mut state = slot.state.lock().unwrap_or_else(PoisonError::into_inner);
        let number = slot.finished.fetch_add(1, Ordering::AcqRel) + 1;
        state.refreshing = false;
        let outcome = match result {
            Ok(token) => {
                let refresh_at = refresh_time(margin, started, token.expires_on);
                state.failure = None;
                state.token = Some(CachedToken {
                    token: token.clone(),
                    refresh_at,
                });
                Ok(token)
            }
            Err(err) => {
                state.failure = Some((number, err.clone()));
                match &state.token {
                    Some(cached) if clock() < cached.token.expires_on => {
                        tracing::warn!(
                            error = %err,
                            "refreshing the access token failed; using the cached token until it expires"
                        );
                        Ok(cached.token.clone())
                    }
                    _ => {
                        state.token = None;
                        Err(err)
                    }
                }
            }
        };
        drop(state);
        slot.done.notify_waiters();
        outcome
    }
}

/// When to fetch a new token: `margin` before expiry, but not before half the lifetime.
fn refresh_time(margin: Duration, fetched_at: SystemTime, expires_on: SystemTime) -> SystemTime {
    let Ok(lifetime) = expires_on.duration_since(fetched_at) else {
        return fetched_at;
    };
    let half_way = fetched_at + lifetime / 2;
    let early = expires_on.checked_sub(margin).unwrap_or(fetched_at);
    early.max(half_way)
}

/// Ends a request that was dropped before it finished: the slot is free again and waiters
/// wake up to start their own.
struct InFlight<'a> {
    slot: &'a Slot,
    armed: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = self
                .slot
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.refreshing = false;
            drop(state);
            self.slot.done.notify_waiters();
        }
    }
}

impl<C: fmt::Debug> fmt::Debug for CachedTokenCredential<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedTokenCredential")
            .field("inner", &self.inner)
            .field("refresh_margin", &self.refresh_margin)
            .field("refresh_timeout", &self.refresh_timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<C: TokenCredential + 'static> TokenCredential for CachedTokenCredential<C> {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let slot = self.slot(scopes);
        let runtime = tokio::runtime::Handle::try_current().ok();
        let mut seen = None;
        loop {
            // Registered before looking, so that a request ending in between still wakes us.
            let notified = slot.done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.step(&slot, seen, runtime.is_some()) {
                Step::Done(result) => return result,
                Step::Wait => {
                    seen = Some(slot.finished.load(Ordering::Acquire));
                    notified.await;
                }
                Step::Fetch => {
                    let mut guard = InFlight {
                        slot: &slot,
                        armed: true,
                    };
                    let result = Self::fetch(
                        &self.inner,
                        &slot,
                        scopes,
                        self.refresh_timeout,
                        self.refresh_margin,
                        &self.clock,
                    )
                    .await;
                    guard.armed = false;
                    return result;
                }
                Step::RefreshInBackground(token) => {
                    let (inner, slot) = (Arc::clone(&self.inner), Arc::clone(&slot));
                    let (timeout, margin, clock) = (
                        self.refresh_timeout,
                        self.refresh_margin,
                        Arc::clone(&self.clock),
                    );
                    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
                    if let Some(runtime) = &runtime {
                        runtime.spawn(async move {
                            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                            let mut guard = InFlight {
                                slot: &slot,
                                armed: true,
                            };
                            let _ =
                                Self::fetch(&inner, &slot, &scopes, timeout, margin, &clock).await;
                            guard.armed = false;
                        });
                    }
                    return Ok(token);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::AtomicUsize;

    use futures::future::join_all;
    use tokio::sync::{Notify, Semaphore};

    use super::*;
    use crate::DEFAULT_SCOPE;

    const HOUR: Duration = Duration::from_secs(3600);
    const MINUTE: Duration = Duration::from_secs(60);

    /// A fake clock shared between a test and the cache.
    #[derive(Clone)]
    struct FakeClock(Arc<Mutex<SystemTime>>);

    impl FakeClock {
        fn new() -> Self {
            Self(Arc::new(Mutex::new(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            )))
        }
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    /// Answers from a script of outcomes (token lifetimes or errors), counting calls; with a
    /// gate, each call announces itself and waits for a permit.
    #[derive(Debug)]
    struct Scripted {
        clock: Arc<Mutex<SystemTime>>,
        script: Mutex<VecDeque<Result<Duration, &'static str>>>,
        calls: AtomicUsize,
        gate: Option<(Notify, Semaphore)>,
    }

    impl Scripted {
        fn new(clock: &FakeClock, script: &[Result<Duration, &'static str>]) -> Self {
            Self {
                clock: Arc::clone(&clock.0),
                script: Mutex::new(script.iter().copied().collect()),
                calls: AtomicUsize::new(0),
                gate: None,
            }
        }
        fn gated(mut self) -> Self {
            self.gate = Some((Notify::new(), Semaphore::new(0)));
            self
        }
        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
        /// Waits until a call has started, then lets every call through.
        async fn release_after_first_call(&self) {
            let (started, permits) = self.gate.as_ref().unwrap();
            started.notified().await;
            permits.add_permits(Semaphore::MAX_PERMITS);
        }
    }

    #[async_trait]
    impl TokenCredential for Scripted {
        async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some((started, permits)) = &self.gate {
                started.notify_one();
                permits.acquire().await.unwrap().forget();
            }
            let next = self.script.lock().unwrap().pop_front();
            let now = *self.clock.lock().unwrap();
            match next.expect("script exhausted") {
                Ok(lifetime) => Ok(AccessToken::new(
                    format!("token-{n}-{}", scopes.join(",")),
                    now + lifetime,
                )),
                Err(message) => Err(CredentialError::new(message)),
            }
        }
    }

    fn cached(inner: Scripted, clock: &FakeClock) -> CachedTokenCredential<Scripted> {
        let clock = clock.clone();
        CachedTokenCredential::new(inner).with_clock(move || clock.now())
    }

    /// Lets background refreshes run until the credential has been asked `calls` times and
    /// the last answer is stored.
    async fn settle(c: &CachedTokenCredential<Scripted>, calls: usize) {
        while c.inner().calls() < calls {
            tokio::task::yield_now().await;
        }
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    async fn token(c: &CachedTokenCredential<Scripted>) -> Result<String, String> {
        c.get_token(&[DEFAULT_SCOPE])
            .await
            .map(|t| t.token.expose().split('-').nth(1).unwrap().to_owned())
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn reuses_a_token_until_the_refresh_margin() {
        let clock = FakeClock::new();
        let c = cached(Scripted::new(&clock, &[Ok(HOUR), Ok(HOUR)]), &clock);
        assert_eq!(token(&c).await.unwrap(), "1");
        clock.advance(54 * MINUTE);
        assert_eq!(token(&c).await.unwrap(), "1");
        assert_eq!(c.inner().calls(), 1);
        // 5 minutes before expiry: refreshed although still valid, in the background (the
        // caller gets the valid token at once).
        clock.advance(MINUTE);
        assert_eq!(token(&c).await.unwrap(), "1");
        settle(&c, 2).await;
        assert_eq!(token(&c).await.unwrap(), "2");
        assert_eq!(c.inner().calls(), 2);
    }

    #[tokio::test]
    async fn the_refresh_margin_is_configurable() {
        let clock = FakeClock::new();
        let c = cached(Scripted::new(&clock, &[Ok(HOUR), Ok(HOUR)]), &clock)
            .with_refresh_margin(20 * MINUTE);
        token(&c).await.unwrap();
        clock.advance(39 * MINUTE);
        assert_eq!(token(&c).await.unwrap(), "1");
        assert_eq!(c.inner().calls(), 1);
        clock.advance(MINUTE);
        token(&c).await.unwrap();
        settle(&c, 2).await;
        assert_eq!(token(&c).await.unwrap(), "2");
    }

    #[tokio::test]
    async fn short_lived_tokens_are_kept_for_half_their_lifetime() {
        let clock = FakeClock::new();
        let c = cached(
            Scripted::new(&clock, &[Ok(2 * MINUTE), Ok(2 * MINUTE)]),
            &clock,
        );
        assert_eq!(token(&c).await.unwrap(), "1");
        clock.advance(MINUTE - Duration::from_secs(1));
        assert_eq!(token(&c).await.unwrap(), "1");
        assert_eq!(c.inner().calls(), 1);
        clock.advance(Duration::from_secs(1));
        token(&c).await.unwrap();
        settle(&c, 2).await;
        assert_eq!(token(&c).await.unwrap(), "2");
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let clock = FakeClock::new();
        let c = cached(Scripted::new(&clock, &[Err("boom"), Ok(HOUR)]), &clock);
        assert_eq!(token(&c).await.unwrap_err(), "boom");
        assert_eq!(token(&c).await.unwrap(), "2");
        assert_eq!(c.inner().calls(), 2);
    }

    #[tokio::test]
    async fn a_failed_refresh_falls_back_to_the_still_valid_token() {
        let clock = FakeClock::new();
        let c = cached(
            Scripted::new(&clock, &[Ok(HOUR), Err("down"), Ok(HOUR)]),
            &clock,
        );
        token(&c).await.unwrap();
        clock.advance(57 * MINUTE);
        assert_eq!(token(&c).await.unwrap(), "1");
        settle(&c, 2).await;
        // The failure is not remembered: the next call asks again (in the background).
        assert_eq!(token(&c).await.unwrap(), "1");
        settle(&c, 3).await;
        assert_eq!(token(&c).await.unwrap(), "3");
        assert_eq!(c.inner().calls(), 3);
    }

    /// The first request answers with a token; every later one never returns.
    #[derive(Debug)]
    struct HangsAfterFirst {
        clock: Arc<Mutex<SystemTime>>,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl TokenCredential for HangsAfterFirst {
        async fn get_token(&self, _: &[&str]) -> Result<AccessToken, CredentialError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                let now = *self.clock.lock().unwrap();
                return Ok(AccessToken::new("first", now + HOUR));
            }
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_refresh_that_never_returns_holds_up_nobody_and_ends_in_a_timeout() {
        let clock = FakeClock::new();
        let inner = HangsAfterFirst {
            clock: Arc::clone(&clock.0),
            calls: AtomicUsize::new(0),
        };
        let shared = clock.clone();
        let c = CachedTokenCredential::new(inner)
            .with_clock(move || shared.now())
            .with_refresh_timeout(Duration::from_secs(10));
        assert_eq!(c.get_token(&["s"]).await.unwrap().token.expose(), "first");
        // Due for a refresh: the refresh hangs, callers get the valid token at once.
        clock.advance(58 * MINUTE);
        for _ in 0..5 {
            let token = tokio::time::timeout(Duration::from_secs(1), c.get_token(&["s"]))
                .await
                .expect("a valid token is served while the refresh is in flight")
                .unwrap();
            assert_eq!(token.token.expose(), "first");
            tokio::task::yield_now().await;
        }
        assert_eq!(
            c.inner().calls.load(Ordering::SeqCst),
            2,
            "one refresh at a time"
        );
        // Expired: the caller waits for a request, which times out.
        clock.advance(2 * MINUTE);
        let err = c.get_token(&["s"]).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(
            err.to_string().contains("did not finish within 10s"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_expired_token_is_never_returned() {
        let clock = FakeClock::new();
        let c = cached(Scripted::new(&clock, &[Ok(HOUR), Err("down")]), &clock);
        token(&c).await.unwrap();
        clock.advance(HOUR);
        assert_eq!(token(&c).await.unwrap_err(), "down");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_request() {
        let clock = FakeClock::new();
        let c = cached(Scripted::new(&clock, &[Ok(HOUR)]).gated(), &clock);
        let callers = join_all((0..10).map(|_| token(&c)));
        let (results, ()) = tokio::join!(callers, c.inner().release_after_first_call());
        assert_eq!(c.inner().calls(), 1);
        assert!(
            results.iter().all(|r| r.as_deref() == Ok("1")),
            "{results:?}"
        );
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_failure_then_retry() {
        let clock = FakeClock::new();
        let c = cached(
            Scripted::new(&clock, &[Err("denied"), Ok(HOUR)]).gated(),
            &clock,
        );
        let callers = join_all((0..5).map(|_| token(&c)));
        let (results, ()) = tokio::join!(callers, c.inner().release_after_first_call());
        assert_eq!(c.inner().calls(), 1);
        assert!(
            results.iter().all(|r| r == &Err("denied".to_owned())),
            "{results:?}"
        );
        assert_eq!(token(&c).await.unwrap(), "2");
    }

    #[tokio::test]
    async fn a_cancelled_request_is_taken_over_by_the_next_caller() {
        let clock = FakeClock::new();
        let c = cached(Scripted::new(&clock, &[Ok(HOUR), Ok(HOUR)]).gated(), &clock);
        {
            let first = token(&c);
            tokio::pin!(first);
            // Poll until the first call is inside the credential, then drop it.
            tokio::select! {
                _ = &mut first => panic!("the gate is closed"),
                () = c.inner().gate.as_ref().unwrap().0.notified() => {}
            }
        }
        let (result, ()) = tokio::join!(token(&c), c.inner().release_after_first_call());
        assert_eq!(result.unwrap(), "2");
        assert_eq!(c.inner().calls(), 2);
    }

    #[tokio::test]
    async fn scopes_are_cached_separately() {
        let clock = FakeClock::new();
        let c = cached(Scripted::new(&clock, &[Ok(HOUR), Ok(HOUR)]), &clock);
        let a = c.get_token(&["a"]).await.unwrap();
        let b = c.get_token(&["b"]).await.unwrap();
        assert_eq!(a.token.expose(), "token-1-a");
        assert_eq!(b.token.expose(), "token-2-b");
        assert_eq!(c.get_token(&["a"]).await.unwrap(), a);
        assert_eq!(c.inner().calls(), 2);
    }

    #[test]
    fn debug_shows_no_token() {
        let c = CachedTokenCredential::new(crate::StaticTokenCredential::new("s3cr3t"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("refresh_margin"), "{shown}");
    }
}

//! [`CachedTokenCredential`]: token reuse, early refresh, one request at a time.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{AccessToken, CredentialError, TokenCredential};

/// How long before a token's expiry [`CachedTokenCredential`] fetches a new one by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Wraps a [`TokenCredential`] and reuses its tokens until shortly before they expire.
///
/// # Behaviour
///
/// - A token is reused until `refresh margin` (default [`DEFAULT_REFRESH_MARGIN`], 5 minutes)
///   before it expires, but never refreshed before half of its lifetime has passed, so a
///   credential that hands out short-lived tokens is not asked on every call.
/// - At most one request per set of scopes is in flight: callers that arrive while a token is
///   being fetched wait for that request and share its outcome (the token, or the error).
/// - Errors are never cached: the first call after a failed request tries again.
/// - If a refresh fails while the cached token has not expired yet, that token is returned (and
///   the failure logged at `WARN`); the next call tries again.
/// - Tokens are cached per set of scopes (in the order given).
/// - Dropping a caller that is fetching a token cancels that request; the next waiting caller
///   starts a new one.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::{
///     CachedTokenCredential, StaticTokenCredential, TokenCredential, DEFAULT_SCOPE,
/// };
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let credential = CachedTokenCredential::new(StaticTokenCredential::new("token"))
///     .with_refresh_margin(Duration::from_secs(120));
/// let token = credential.get_token(&[DEFAULT_SCOPE]).await?;
/// assert_eq!(token.token.expose(), "token");
/// # Ok::<(), confidential_ledger::CredentialError>(())
/// # }).unwrap();
/// ```
pub struct CachedTokenCredential<C> {
    inner: C,
    refresh_margin: Duration,
    slots: Mutex<HashMap<Vec<String>, Arc<Slot>>>,
    clock: Clock,
}

/// The cache for one set of scopes.
#[derive(Default)]
struct Slot {
    /// Number of token requests that have finished (successfully or not).
    finished: AtomicU64,
    /// Held while a request is in flight.
    state: tokio::sync::Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    token: Option<CachedToken>,
    /// The error of the most recent request, numbered by `Slot::finished` after it: shared only
    /// with callers that were waiting while that request ran.
    failure: Option<(u64, CredentialError)>,
}

struct CachedToken {
    token: AccessToken,
    refresh_at: SystemTime,
}

impl<C: TokenCredential> CachedTokenCredential<C> {
    /// Caches the tokens of `inner`, refreshing them [`DEFAULT_REFRESH_MARGIN`] before expiry.
    pub fn new(inner: C) -> Self {
        Self {
            inner,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
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

    /// When to fetch a new token: `margin` before expiry, but not before half the lifetime.
    fn refresh_time(&self, fetched_at: SystemTime, expires_on: SystemTime) -> SystemTime {
        let Ok(lifetime) = expires_on.duration_since(fetched_at) else {
            return fetched_at;
        };
        let half_way = fetched_at + lifetime / 2;
        let early = expires_on
            .checked_sub(self.refresh_margin)
            .unwrap_or(fetched_at);
        early.max(half_way)
    }
}

impl<C: fmt::Debug> fmt::Debug for CachedTokenCredential<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedTokenCredential")
            .field("inner", &self.inner)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<C: TokenCredential> TokenCredential for CachedTokenCredential<C> {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let slot = self.slot(scopes);
        let seen = slot.finished.load(Ordering::Acquire);
        let mut state = slot.state.lock().await;
        let now = (self.clock)();

        // A request finished while this caller waited for the lock: share its outcome.
        let finished = slot.finished.load(Ordering::Acquire);
        if finished != seen {
            if let Some(cached) = &state.token
                && now < cached.token.expires_on
            {
                return Ok(cached.token.clone());
            }
            if let Some((number, err)) = &state.failure
                && *number == finished
            {
                return Err(err.clone());
            }
        }
        if let Some(cached) = &state.token
            && now < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }

        let result = self.inner.get_token(scopes).await;
        let number = slot.finished.fetch_add(1, Ordering::AcqRel) + 1;
        match result {
            Ok(token) => {
                let refresh_at = self.refresh_time(now, token.expires_on);
                state.failure = None;
                state.token = Some(CachedToken {
                    token: token.clone(),
                    refresh_at,
                });
                Ok(token)
            }
            Err(err) => {
                state.failure = Some((number, err.clone()));
                if let Some(cached) = &state.token
                    && (self.clock)() < cached.token.expires_on
                {
                    tracing::warn!(
                        error = %err,
                        "refreshing the access token failed; using the cached token until it expires"
                    );
                    return Ok(cached.token.clone());
                }
                state.token = None;
                Err(err)
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
        // 5 minutes before expiry: refreshed although still valid.
        clock.advance(MINUTE);
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
        clock.advance(MINUTE);
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
        clock.advance(Duration::from_secs(1));
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
        // The failure is not remembered: the next call asks again.
        assert_eq!(token(&c).await.unwrap(), "3");
        assert_eq!(c.inner().calls(), 3);
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

//! How long to wait between polls: [`PollingOptions`] and the [`Backoff`] that applies them.

use std::time::Duration;

/// The shortest delay the poller and the pager ever wait between two requests.
///
/// Options asking for less (a zero initial delay, a `Retry-After: 0`) are raised to this, so
/// a misconfiguration or a server answer can never turn waiting into a busy loop.
pub const MIN_DELAY: Duration = Duration::from_millis(1);

/// Delays between polls: start fast, grow exponentially to a cap, add jitter, honour the
/// server's `Retry-After`.
///
/// Used by [`Poller`](crate::poller::Poller) between status checks and by
/// [`Pager`](crate::pager::Pager) while a page is `Loading`. The `n`-th delay (from 0) is
///
/// ```text
/// base(n)  = min(initial_delay * multiplier^n, max_delay)
/// delay(n) = base(n) * (1 - jitter * u)     with u uniform in [0, 1)
/// ```
///
/// and, when the server sent `Retry-After: r`, `max(r, delay(n))`: the server's value is a
/// lower bound, so a `Retry-After: 0` cannot make the client poll faster than its own schedule.
///
/// # Defaults
///
/// | field | default |
/// |---|---|
/// | [`initial_delay`](Self::initial_delay) | 25 ms |
/// | [`multiplier`](Self::multiplier) | 1.5 |
/// | [`max_delay`](Self::max_delay) | 1 s |
/// | [`jitter`](Self::jitter) | 0.2 (each delay shortened by up to 20 %) |
///
/// So polls happen after about 0, 25, 62, 119, 203, 330, 520, 805, 1232, 1873 ms, then every
/// second. A write usually commits at the next signature (CCF signs about once a second), so
/// the first polls come quickly and a long wait costs at most one request per second.
///
/// Out-of-range values are tolerated rather than rejected: a multiplier below 1 (or NaN) counts
/// as 1, a jitter outside `[0, 1]` is clamped, a `max_delay` below `initial_delay` caps every
/// delay at `max_delay`, and no delay is ever shorter than [`MIN_DELAY`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::poller::PollingOptions;
///
/// // Poll twice as fast at first, never wait more than 250 ms.
/// let options = PollingOptions {
///     initial_delay: Duration::from_millis(10),
///     max_delay: Duration::from_millis(250),
///     ..Default::default()
/// };
/// assert_eq!(options.multiplier, 1.5);
///
/// // The behaviour of the official clients, for comparison: every 0.5 s.
/// let fixed = PollingOptions::fixed(Duration::from_millis(500));
/// assert_eq!(fixed.max_delay, Duration::from_millis(500));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PollingOptions {
    /// The delay before the second poll (the first poll is immediate).
    pub initial_delay: Duration,
    /// The factor by which each delay grows.
    pub multiplier: f64,
    /// The longest delay between two polls (a server's `Retry-After` may ask for more).
    pub max_delay: Duration,
    /// The fraction (0 to 1) by which each delay may be randomly shortened, so that many
    /// clients started together do not poll in lockstep. 0 makes delays exact.
    pub jitter: f64,
}

impl Default for PollingOptions {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(25),
            multiplier: 1.5,
            max_delay: Duration::from_secs(1),
            jitter: 0.2,
        }
    }
}

impl PollingOptions {
    /// Polls at a fixed interval, without growth or jitter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use confidential_ledger::poller::{Backoff, PollingOptions};
    ///
    /// let mut backoff = Backoff::new(PollingOptions::fixed(Duration::from_millis(500)));
    /// assert_eq!(backoff.next_delay(None), Duration::from_millis(500));
    /// assert_eq!(backoff.next_delay(None), Duration::from_millis(500));
    /// ```
    pub fn fixed(interval: Duration) -> Self {
        Self {
            initial_delay: interval,
            multiplier: 1.0,
            max_delay: interval,
            jitter: 0.0,
        }
    }

    /// The delay before jitter for the `attempt`-th wait (from 0).
    fn base_delay(&self, attempt: u32) -> Duration {
        let max = self.max_delay.max(MIN_DELAY);
        let initial = self.initial_delay.clamp(MIN_DELAY, max);
        let multiplier = if self.multiplier >= 1.0 {
            self.multiplier
        } else {
            1.0
        };
        let exponent = i32::try_from(attempt).unwrap_or(i32::MAX);
        let seconds = initial.as_secs_f64() * multiplier.powi(exponent);
        match Duration::try_from_secs_f64(seconds) {
            Ok(delay) => delay.min(max),
            // Overflow or infinity: far past the cap.
            Err(_) => max,
        }
    }

    fn jitter_fraction(&self) -> f64 {
        if self.jitter.is_nan() {
            0.0
        } else {
            self.jitter.clamp(0.0, 1.0)
        }
    }
}

/// The delay schedule of one wait: applies [`PollingOptions`] and counts the delays handed out.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::poller::{Backoff, PollingOptions};
///
/// let mut backoff = Backoff::new(PollingOptions { jitter: 0.0, ..Default::default() });
/// assert_eq!(backoff.next_delay(None), Duration::from_millis(25));
/// assert_eq!(backoff.next_delay(None), Duration::from_micros(37_500));
/// // The server asks for more: it gets it.
/// assert_eq!(backoff.next_delay(Some(Duration::from_secs(2))), Duration::from_secs(2));
/// // `Retry-After: 0` does not make the client poll faster than its schedule.
/// assert_eq!(backoff.next_delay(Some(Duration::ZERO)), Duration::from_micros(84_375));
///
/// backoff.reset();
/// assert_eq!(backoff.next_delay(None), Duration::from_millis(25));
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    options: PollingOptions,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    /// A schedule starting at its first delay.
    pub fn new(options: PollingOptions) -> Self {
        Self {
            options,
            attempt: 0,
            rng: fastrand::Rng::new(),
        }
    }

    /// A schedule whose jitter comes from a seeded generator, for reproducible delays.
    pub fn with_seed(options: PollingOptions, seed: u64) -> Self {
        Self {
            options,
            attempt: 0,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// The options this schedule applies.
    pub fn options(&self) -> &PollingOptions {
        &self.options
    }

    /// How many delays were handed out since the start or the last [`reset`](Self::reset).
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The next delay, at least `retry_after` when the server sent one.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let base = self.options.base_delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        let jitter = self.options.jitter_fraction();
        let delay = if jitter > 0.0 {
            let factor = 1.0 - jitter * self.rng.f64();
            // `factor` is at most 1, so only rounding at the very top of the range can fail.
            Duration::try_from_secs_f64(base.as_secs_f64() * factor).unwrap_or(base)
        } else {
            base
        }
        .max(MIN_DELAY);
        match retry_after {
            Some(requested) => requested.max(delay),
            None => delay,
        }
    }

    /// Starts the schedule over at its first delay.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(options: PollingOptions) -> Backoff {
        Backoff::new(PollingOptions {
            jitter: 0.0,
            ..options
        })
    }

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    #[test]
    fn default_schedule_grows_by_half_to_one_second() {
        let mut backoff = exact(PollingOptions::default());
        let delays: Vec<_> = (0..12).map(|_| backoff.next_delay(None)).collect();
        let micros: Vec<u128> = delays.iter().map(Duration::as_micros).collect();
        assert_eq!(
            micros,
            [
                25_000, 37_500, 56_250, 84_375, 126_562, 189_843, 284_765, 427_148, 640_722,
                961_083, 1_000_000, 1_000_000
            ]
        );
        assert_eq!(backoff.attempts(), 12);
    }

    #[test]
    fn delays_never_exceed_the_cap_even_after_many_attempts() {
        let mut backoff = exact(PollingOptions::default());
        for _ in 0..10_000 {
            assert!(backoff.next_delay(None) <= Duration::from_secs(1));
        }
        // The exponent saturates instead of overflowing.
        backoff.attempt = u32::MAX;
        assert_eq!(backoff.next_delay(None), Duration::from_secs(1));
        assert_eq!(backoff.attempts(), u32::MAX);
    }

    #[test]
    fn jitter_only_shortens_and_stays_within_its_fraction() {
        let options = PollingOptions::default();
        let mut backoff = Backoff::with_seed(options.clone(), 7);
        let mut distinct = std::collections::BTreeSet::new();
        for attempt in 0..200 {
            let base = options.base_delay(attempt);
            let delay = backoff.next_delay(None);
            assert!(delay <= base, "{delay:?} > {base:?}");
            assert!(delay >= base.mul_f64(0.8), "{delay:?} < 80% of {base:?}");
            distinct.insert(delay);
        }
        assert!(distinct.len() > 100, "jitter should vary the delays");
    }

    #[test]
    fn seeded_schedules_are_reproducible() {
        let mut a = Backoff::with_seed(PollingOptions::default(), 42);
        let mut b = Backoff::with_seed(PollingOptions::default(), 42);
        for _ in 0..20 {
            assert_eq!(a.next_delay(None), b.next_delay(None));
        }
    }

    #[test]
    fn retry_after_is_a_lower_bound() {
        let mut backoff = exact(PollingOptions::default());
        assert_eq!(backoff.next_delay(Some(ms(3000))), ms(3000));
        // Shorter than the schedule: the schedule wins (here the second delay, 37.5 ms).
        assert_eq!(
            backoff.next_delay(Some(ms(1))),
            Duration::from_micros(37_500)
        );
        assert_eq!(
            backoff.next_delay(Some(Duration::ZERO)),
            Duration::from_micros(56_250)
        );
    }

    #[test]
    fn reset_starts_over() {
        let mut backoff = exact(PollingOptions::default());
        for _ in 0..5 {
            backoff.next_delay(None);
        }
        backoff.reset();
        assert_eq!(backoff.attempts(), 0);
        assert_eq!(backoff.next_delay(None), ms(25));
    }

    #[test]
    fn out_of_range_options_cannot_busy_loop_or_panic() {
        let zero = PollingOptions {
            initial_delay: Duration::ZERO,
            multiplier: 0.0,
            max_delay: Duration::ZERO,
            jitter: 1.0,
        };
        let mut backoff = Backoff::with_seed(zero, 1);
        for _ in 0..100 {
            assert_eq!(backoff.next_delay(Some(Duration::ZERO)), MIN_DELAY);
        }

        let odd = PollingOptions {
            initial_delay: ms(500),
            multiplier: f64::NAN,
            max_delay: ms(100),
            jitter: f64::NAN,
        };
        let mut backoff = Backoff::new(odd);
        assert_eq!(backoff.next_delay(None), ms(100));
        assert_eq!(backoff.next_delay(None), ms(100));

        let huge = PollingOptions {
            initial_delay: Duration::MAX,
            multiplier: f64::INFINITY,
            max_delay: Duration::MAX,
            jitter: -3.0,
        };
        let mut backoff = Backoff::new(huge);
        assert_eq!(backoff.next_delay(None), Duration::MAX);
        assert_eq!(backoff.next_delay(None), Duration::MAX);
    }

    #[test]
    fn fixed_interval_is_exact() {
        let mut backoff = Backoff::new(PollingOptions::fixed(ms(500)));
        for _ in 0..10 {
            assert_eq!(backoff.next_delay(None), ms(500));
        }
    }
}

//! When the commit watcher asks next: a cadence learned from the commits it sees.
//!
//! CCF commits at signature transactions, emitted on a rhythm (1 s by default). The watcher
//! notes when it sees a new signature (a transaction it saw pending is now committed); from
//! the gaps it learns the rhythm, then
//! sleeps until shortly before the next expected signature and asks often around it. Until
//! the rhythm is known it backs off from 10 ms, growing by 1.5×. A `Retry-After` is always
//! honoured, and no delay exceeds the hard cap.

use std::time::Duration;

use tokio::time::Instant;

/// The shortest gap taken as a rhythm sample (closer advances are one signature seen twice).
const MIN_SAMPLE: Duration = Duration::from_millis(2);
/// The first delay while the rhythm is unknown.
const FIRST_DELAY: Duration = Duration::from_millis(10);

/// The watcher's schedule.
#[derive(Debug)]
pub(crate) struct Cadence {
    cap: Duration,
    interval: Option<Duration>,
    last_advance: Option<Instant>,
    backoff: Duration,
    follow_up: bool,
    retry_after: Option<Duration>,
}

impl Cadence {
    /// A cadence whose delays never exceed `cap` (except to honour a `Retry-After`).
    pub(crate) fn new(cap: Duration) -> Self {
        Self {
            cap: cap.max(Duration::from_millis(1)),
            interval: None,
            last_advance: None,
            backoff: FIRST_DELAY,
            follow_up: false,
            retry_after: None,
        }
    }

    /// The signature rhythm learned so far.
    #[cfg(test)]
    pub(crate) fn interval(&self) -> Option<Duration> {
        self.interval
    }

    /// A round ended at `now`: `advanced` when it saw a new signature (a transaction answered
    /// pending before is now committed),
    /// `retry_after` the longest wait the ledger asked for.
    pub(crate) fn on_round(&mut self, now: Instant, advanced: bool, retry_after: Option<Duration>) {
        self.retry_after = retry_after;
        if !advanced {
            self.backoff = self.backoff.mul_f64(1.5).min(self.cap);
            return;
        }
        if let Some(last) = self.last_advance {
            let gap = now.saturating_duration_since(last);
            if gap >= MIN_SAMPLE {
                self.interval = Some(match self.interval {
                    None => gap,
                    Some(known) => {
                        // A gap may span several signatures (no waits in between).
                        let beats = (gap.as_secs_f64() / known.as_secs_f64()).round().max(1.0);
                        let sample = gap.div_f64(beats);
                        (known * 3 + sample) / 4
                    }
                });
            }
        }
        self.last_advance = Some(now);
        self.backoff = FIRST_DELAY;
        self.follow_up = true;
    }

    /// Whether the next round is the follow-up of a round that saw a commit (cleared).
    pub(crate) fn take_follow_up(&mut self) -> bool {
        std::mem::take(&mut self.follow_up)
    }

    /// A new task starts (waits came after an idle time): the backoff starts over, and what
    /// the ledger asked of the previous task's last round no longer applies. The rhythm is
    /// kept.
    pub(crate) fn restart(&mut self) {
        self.backoff = FIRST_DELAY;
        self.follow_up = false;
        self.retry_after = None;
    }

    /// How long a task starting at `now` waits before its first round: until shortly before
    /// the next expected signature when the rhythm is known, not at all otherwise.
    pub(crate) fn start_delay(&self, now: Instant) -> Duration {
        self.rhythm_delay(now)
            .unwrap_or(Duration::ZERO)
            .min(self.cap)
    }

    /// How long to wait, from `now`, before the next round.
    pub(crate) fn next_delay(&self, now: Instant) -> Duration {
        let planned = if self.follow_up {
            Duration::ZERO
        } else {
            self.rhythm_delay(now).unwrap_or(self.backoff)
        };
        let planned = planned.min(self.cap);
        match self.retry_after {
            Some(asked) => planned.max(asked),
            None => planned,
        }
    }

    /// The delay the learned rhythm suggests: until shortly before the next expected
    /// signature, then short steps around it; `None` without a rhythm or when the expected
    /// signature is long overdue (then back off).
    fn rhythm_delay(&self, now: Instant) -> Option<Duration> {
        let (interval, last) = (self.interval?, self.last_advance?);
        let margin = (interval / 16).clamp(Duration::from_millis(2), Duration::from_millis(60));
        let step = (interval / 40).clamp(Duration::from_millis(2), Duration::from_millis(25));
        let since = now.saturating_duration_since(last);
        // The next expected commit after `now`.
        let beats = (since.as_secs_f64() / interval.as_secs_f64()).floor();
        if beats >= 2.0 {
            return None;
        }
        let expected = interval.mul_f64(beats + 1.0);
        let window = expected.saturating_sub(margin);
        if since < window {
            Some(window - since)
        } else {
            Some(step)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn it_learns_the_rhythm_and_sleeps_until_the_next_signature() {
        let mut cadence = Cadence::new(1000 * MS);
        let start = Instant::now();
        // Unknown rhythm: backs off from 10 ms.
        assert_eq!(cadence.next_delay(start), 10 * MS);
        cadence.on_round(start, false, None);
        assert_eq!(cadence.next_delay(start), 15 * MS);
        cadence.on_round(start, true, None);
        assert!(cadence.take_follow_up());
        cadence.on_round(start + 1000 * MS, true, None);
        assert_eq!(cadence.interval(), Some(1000 * MS));
        assert_eq!(cadence.next_delay(start), Duration::ZERO, "follow-up first");
        assert!(cadence.take_follow_up());
        let last = start + 1000 * MS;
        // Sleeps until 60 ms before the next signature, then steps of 25 ms.
        assert_eq!(cadence.next_delay(last + 10 * MS), 930 * MS);
        assert_eq!(cadence.next_delay(last + 950 * MS), 25 * MS);
        // A gap of three beats teaches one beat.
        cadence.on_round(last + 3000 * MS, true, None);
        assert_eq!(cadence.interval(), Some(1000 * MS));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_and_the_cap_holds() {
        let mut cadence = Cadence::new(200 * MS);
        let now = Instant::now();
        for _ in 0..20 {
            cadence.on_round(now, false, None);
        }
        assert_eq!(cadence.next_delay(now), 200 * MS);
        cadence.on_round(now, false, Some(3000 * MS));
        assert_eq!(cadence.next_delay(now), 3000 * MS);
        cadence.on_round(now, true, Some(50 * MS));
        assert_eq!(
            cadence.next_delay(now),
            50 * MS,
            "a follow-up still waits as asked"
        );
        // After an idle time the backoff starts over.
        for _ in 0..20 {
            cadence.on_round(now, false, None);
        }
        cadence.restart();
        assert_eq!(cadence.next_delay(now + 60_000 * MS), 10 * MS);
    }
}

//! When the commit watcher asks next: a schedule timed by the ledger's signatures.
//!
//! CCF commits at signature transactions, emitted on a rhythm (1 s by default). A round that
//! sees committed a transaction an earlier round saw pending brackets a signature between the
//! two rounds; a tight bracket (rounds a few milliseconds apart) times it. From those times the
//! cadence learns the rhythm (the interval) and the phase (when the next signature is due), then
//! sleeps until just before the next one and asks in short steps around it.
//!
//! A transaction first seen already committed, but waited for since after the last signature
//! seen, places the signature (not the rhythm). When the due time passes without a commit,
//! the signature is late or the phase is wrong: it searches, asking at a delay growing from the
//! step to a fortieth of the interval (half the widest bracket that still times a signature),
//! and the bracket it finds puts the phase right. Commits
//! found already there when the rounds begin widen the rounds. Until the rhythm is known it
//! backs off from 10 ms to at most 50 ms, and once it has seen one signature it asks every
//! 10 ms until the next (two signatures timed with an idle time between them are no sample:
//! others may have come unseen).
//! A `Retry-After` is always honoured, and no delay exceeds the hard cap.

use std::time::Duration;

use tokio::time::Instant;

/// The first delay while the rhythm is unknown.
const FIRST_DELAY: Duration = Duration::from_millis(10);
/// The longest delay while the rhythm is unknown.
const LEARNING_CAP: Duration = Duration::from_millis(50);
/// The shortest gap between two signature times taken as a rhythm sample.
const MIN_SAMPLE: Duration = Duration::from_millis(2);
/// The widest bracket that times a signature before the rhythm is known.
const LEARNING_BRACKET: Duration = Duration::from_millis(60);

/// What one round of status requests saw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoundSeen {
    /// When the last answer came.
    pub(crate) ended: Instant,
    /// A new signature was seen (a transaction answered pending before is committed now), and
    /// when the round that last saw it pending started.
    pub(crate) signature_since: Option<Instant>,
    /// The latest time one of the transactions answered committed at first sight (never
    /// seen pending) was waited for: a signature came between then and the end of the round,
    /// unless it is the one seen last.
    pub(crate) committed_waited_since: Option<Instant>,
    /// The longest wait the ledger asked for.
    pub(crate) retry_after: Option<Duration>,
}

/// The watcher's schedule.
#[derive(Debug)]
pub(crate) struct Cadence {
    cap: Duration,
    interval: Option<Duration>,
    /// The last signature timed by a tight bracket.
    last_timed: Option<Instant>,
    /// Where the last signature seen was placed (timed or not).
    last_placed: Option<Instant>,
    /// When the next signature is due (once the rhythm is known).
    due: Option<Instant>,
    /// How far timed signatures fell from their due times, on average (widens the rounds
    /// around a due signature on a ledger whose signatures wander).
    jitter: Duration,
    /// Rhythm samples in a row far from the learned interval (three start it over).
    outliers: u8,
    /// Looking for a signature that is overdue.
    searching: bool,
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
            last_timed: None,
            last_placed: None,
            due: None,
            jitter: Duration::ZERO,
            outliers: 0,
            searching: false,
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

    /// When the next signature is due, as far as the cadence knows.
    #[cfg(test)]
    pub(crate) fn due(&self) -> Option<Instant> {
        self.due
    }

    /// How long before a due signature the rounds start (and after it, they keep asking
    /// before a search): a twentieth of the interval, at most 20 ms, widened to twice the
    /// jitter seen, within 2 ms and a quarter of the interval.
    fn margin(&self, interval: Duration) -> Duration {
        (interval / 20)
            .min(Duration::from_millis(20))
            .max(self.jitter * 2)
            .clamp(
                Duration::from_millis(2),
                (interval / 4).max(Duration::from_millis(2)),
            )
    }

    /// The widest bracket that times a signature once the rhythm is known (and the longest
    /// delay of a search, so that what it finds times it).
    fn tight_bracket(interval: Duration) -> Duration {
        (interval / 20).max(Duration::from_millis(2))
    }

    /// The delay between rounds around a due signature.
    fn step(interval: Duration) -> Duration {
        (interval / 50).clamp(Duration::from_millis(1), Duration::from_millis(10))
    }

    /// A round ended: learn from what it saw.
    pub(crate) fn on_round(&mut self, seen: RoundSeen) {
        self.retry_after = seen.retry_after;
        if let Some(since) = seen.signature_since {
            self.on_signature(since, seen.ended, true);
            return;
        }
        if let Some(waited) = seen.committed_waited_since
            && let Some(interval) = self.interval
            && self
                .last_placed
                .is_none_or(|last| waited > last + Self::tight_bracket(interval))
        {
            // Waited for after the last signature seen, and committed already: that places a
            // signature but teaches no rhythm (it may be the last one seen, placed late).
            self.on_signature(waited, seen.ended, false);
            return;
        }
        let (Some(interval), Some(due)) = (self.interval, self.due) else {
            // Learning: after the first signature seen, short steps, so that the second one
            // is timed closely (the rhythm starts from the gap between them).
            self.backoff = if self.last_placed.is_some() {
                FIRST_DELAY
            } else {
                self.backoff.mul_f64(1.5).min(LEARNING_CAP)
            };
            return;
        };
        if self.searching {
            self.backoff = self
                .backoff
                .mul_f64(1.5)
                .min(Self::tight_bracket(interval) / 2);
            return;
        }
        if seen.ended < due + self.margin(interval) {
            return;
        }
        // The due time has passed without a commit: the signature is late or the phase is
        // wrong. Search (a signature that committed nothing asked about shows up the same
        // way, and the search then finds the next one).
        self.searching = true;
        self.backoff = Self::step(interval);
    }

    /// A signature came between `since` (the start of the round that saw a transaction
    /// pending, or when a transaction first seen committed was waited for) and `ended` (the
    /// end of the round that saw it committed). Only a transaction seen pending, then
    /// committed (`learn`), times the rhythm.
    fn on_signature(&mut self, since: Instant, ended: Instant, learn: bool) {
        self.follow_up = true;
        let found_by_search = std::mem::take(&mut self.searching);
        self.backoff = FIRST_DELAY;
        let width = ended.saturating_duration_since(since);
        let tight = match self.interval {
            Some(interval) => width <= Self::tight_bracket(interval),
            None => width <= LEARNING_BRACKET,
        };
        let tight_learning = tight && learn;
        let mut at = since + width / 2;
        if !tight && let (Some(interval), Some(due)) = (self.interval, self.due) {
            // A loose bracket: the commit was already there when the rounds around the due
            // time began (or the signature came after a long silence). The phase moves a
            // margin earlier than the due time (or the end of the bracket), never before the
            // bracket: rounds opening earlier catch the next signature in a tight bracket.
            let margin = self.margin(interval);
            at = (due.min(ended) - margin).max(since);
            if ended <= due + margin {
                // Before the rounds began: the signatures wander at least that far.
                self.jitter = (self.jitter * 3 + margin) / 4;
            }
        }
        if tight_learning {
            // How far a signature found around its due time fell from it (one found by a
            // search shows a wrong phase instead).
            if let (Some(interval), Some(due), false) = (self.interval, self.due, found_by_search) {
                let off = if at > due { at - due } else { due - at };
                if off < interval / 2 {
                    self.jitter = (self.jitter * 3 + off) / 4;
                }
            }
            if let Some(last) = self.last_timed {
                let gap = at.saturating_duration_since(last);
                if gap >= MIN_SAMPLE {
                    self.learn_interval(gap);
                }
            }
            self.last_timed = Some(at);
        }
        self.last_placed = Some(at);
        // The next one is due an interval after this one; a loose bracket still places the
        // phase within it, and a search corrects the rest.
        self.due = self.interval.map(|interval| at + interval);
    }

    /// Learns from `gap` between two timed signatures. A gap may span several signatures
    /// (none seen in between). A sample more than an eighth off the known interval (a late
    /// signature) is left out, unless three in a row are: then the rhythm has changed.
    fn learn_interval(&mut self, gap: Duration) {
        let Some(known) = self.interval else {
            self.interval = Some(gap);
            return;
        };
        let beats = (gap.as_secs_f64() / known.as_secs_f64()).round().max(1.0);
        let sample = gap.div_f64(beats);
        let off = sample.abs_diff(known);
        if off <= known / 8 {
            self.outliers = 0;
            self.interval = Some((known * 3 + sample) / 4);
        } else if self.outliers >= 2 {
            self.outliers = 0;
            self.interval = Some(sample);
        } else {
            self.outliers += 1;
        }
    }

    /// `due`, moved on by whole intervals until it is no longer in the past of `now`.
    fn roll_forward(due: Instant, interval: Duration, now: Instant) -> Instant {
        if now <= due || interval.is_zero() {
            return due;
        }
        let behind = now.saturating_duration_since(due).as_secs_f64() / interval.as_secs_f64();
        due + interval.mul_f64(behind.floor() + 1.0)
    }

    /// The next round follows up at once (a follow-up found the commit part of the way
    /// through the waits).
    pub(crate) fn follow_up_again(&mut self) {
        self.follow_up = true;
    }

    /// Whether the next round is the follow-up of a round that saw a commit (cleared).
    pub(crate) fn take_follow_up(&mut self) -> bool {
        std::mem::take(&mut self.follow_up)
    }

    /// A new task starts at `now` (waits came after an idle time): the backoff starts over,
    /// what the ledger asked of the previous task's last round no longer applies, and the
    /// signature due next is the first one after now. The rhythm is kept.
    pub(crate) fn restart(&mut self, now: Instant) {
        self.backoff = FIRST_DELAY;
        self.follow_up = false;
        self.searching = false;
        self.retry_after = None;
        if let (Some(interval), Some(due)) = (self.interval, self.due) {
            self.due = Some(Self::roll_forward(due, interval, now));
        }
        if self.interval.is_none() {
            // No one asked while idle: signatures may have come unseen since the last timed
            // one, and a gap over several would be learned as the rhythm.
            self.last_timed = None;
        }
    }

    /// How long a task starting at `now` waits before its first round: until shortly before
    /// the next due signature when the rhythm is known, not at all otherwise.
    pub(crate) fn start_delay(&self, now: Instant) -> Duration {
        self.until_window(now)
            .unwrap_or(Duration::ZERO)
            .min(self.cap)
    }

    /// How long to wait, from `now`, before the next round.
    pub(crate) fn next_delay(&self, now: Instant) -> Duration {
        let planned = if self.follow_up {
            Duration::ZERO
        } else if self.searching {
            self.backoff
        } else {
            match (self.interval, self.until_window(now)) {
                (Some(interval), Some(until)) if until.is_zero() => Self::step(interval),
                (Some(_), Some(until)) => until,
                _ => self.backoff,
            }
        };
        let planned = planned.min(self.cap);
        match self.retry_after {
            Some(asked) => planned.max(asked),
            None => planned,
        }
    }

    /// The time from `now` until the rounds around the due signature start (zero once they
    /// have); `None` while the rhythm is unknown.
    fn until_window(&self, now: Instant) -> Option<Duration> {
        let (interval, due) = (self.interval?, self.due?);
        Some(
            due.saturating_duration_since(now)
                .saturating_sub(self.margin(interval)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// A round ending at `ended` that saw nothing new.
    fn round(ended: Instant) -> RoundSeen {
        RoundSeen {
            ended,
            signature_since: None,
            committed_waited_since: None,
            retry_after: None,
        }
    }

    /// A round ending at `ended` that saw a signature since `since`.
    fn signature(since: Instant, ended: Instant) -> RoundSeen {
        RoundSeen {
            signature_since: Some(since),
            ..round(ended)
        }
    }

    /// A cadence that timed signatures at `start + 5 ms` and `start + 1005 ms`.
    fn learned(start: Instant) -> Cadence {
        let mut cadence = Cadence::new(1000 * MS);
        cadence.on_round(signature(start, start + 10 * MS));
        assert!(cadence.take_follow_up());
        cadence.on_round(signature(start + 1000 * MS, start + 1010 * MS));
        assert!(cadence.take_follow_up());
        cadence
    }

    #[tokio::test(start_paused = true)]
    async fn it_learns_the_rhythm_from_tight_brackets_and_asks_just_before_the_next() {
        let start = Instant::now();
        let mut cadence = Cadence::new(1000 * MS);
        // Unknown rhythm: backs off from 10 ms, to at most 50 ms.
        assert_eq!(cadence.next_delay(start), 10 * MS);
        cadence.on_round(round(start));
        assert_eq!(cadence.next_delay(start), 15 * MS);
        for _ in 0..10 {
            cadence.on_round(round(start));
        }
        assert_eq!(cadence.next_delay(start), 50 * MS);
        let cadence = learned(start);
        assert_eq!(cadence.interval(), Some(1000 * MS));
        let due = start + 2005 * MS;
        assert_eq!(cadence.due(), Some(due));
        // Sleeps until 20 ms before the next signature, then steps of 10 ms.
        assert_eq!(cadence.next_delay(start + 1015 * MS), 970 * MS);
        assert_eq!(cadence.next_delay(due - 15 * MS), 10 * MS);
        assert_eq!(cadence.start_delay(start + 1015 * MS), 970 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_across_an_idle_time_is_not_learned_as_the_rhythm() {
        let start = Instant::now();
        let mut cadence = Cadence::new(1000 * MS);
        // Signatures every 100 ms. One timed, then no wait for a while: the task stops, and
        // the next one starts after two signatures nobody asked about.
        cadence.on_round(signature(start, start + 10 * MS));
        assert!(cadence.take_follow_up());
        cadence.restart(start + 250 * MS);
        cadence.on_round(signature(start + 300 * MS, start + 310 * MS));
        assert_eq!(
            cadence.interval(),
            None,
            "300 ms may span several signatures"
        );
        // Two timed without a stop in between: one beat.
        cadence.on_round(signature(start + 400 * MS, start + 410 * MS));
        assert_eq!(cadence.interval(), Some(100 * MS));
        // Once the rhythm is known, a gap across an idle time counts its beats.
        cadence.restart(start + 700 * MS);
        cadence.on_round(signature(start + 800 * MS, start + 810 * MS));
        assert_eq!(cadence.interval(), Some(100 * MS));
    }

    #[tokio::test(start_paused = true)]
    async fn a_loose_bracket_places_the_phase_but_teaches_no_rhythm() {
        let start = Instant::now();
        let mut cadence = learned(start);
        // Seen at the first round before the due time (2005 ms), pending 400 ms before: the
        // signature came before the rounds began, so the phase moves a margin earlier (but
        // not before the bracket).
        cadence.on_round(signature(start + 1900 * MS, start + 2300 * MS));
        assert_eq!(cadence.interval(), Some(1000 * MS));
        assert_eq!(cadence.due(), Some(start + 2985 * MS));
        // One after the due time: the phase moves to the bracket's start.
        cadence.on_round(signature(start + 3100 * MS, start + 3500 * MS));
        assert_eq!(cadence.due(), Some(start + 4100 * MS));
        // A gap of three beats between tight brackets teaches one beat.
        cadence.on_round(signature(start + 4000 * MS, start + 4010 * MS));
        assert_eq!(cadence.interval(), Some(1000 * MS));
        assert_eq!(cadence.due(), Some(start + 5005 * MS));
    }

    #[tokio::test(start_paused = true)]
    async fn an_overdue_signature_is_searched_for_not_slept_through() {
        let start = Instant::now();
        let mut cadence = learned(start);
        let due = start + 2005 * MS;
        // Past the due time, with a transaction waited for since well before it still pending.
        cadence.on_round(round(due + 25 * MS));
        assert_eq!(cadence.next_delay(due + 26 * MS), 10 * MS, "searching");
        cadence.on_round(round(due + 36 * MS));
        assert_eq!(cadence.next_delay(due + 37 * MS), 15 * MS);
        for i in 0..20 {
            cadence.on_round(round(due + (40 + i) * MS));
        }
        assert_eq!(
            cadence.next_delay(due),
            25 * MS,
            "at most half the widest tight bracket"
        );
        // Found: the phase moves to the bracket, and the rounds sleep again. A late signature
        // is no rhythm sample.
        cadence.on_round(signature(due + 200 * MS, due + 210 * MS));
        assert!(cadence.take_follow_up());
        assert_eq!(cadence.interval(), Some(1000 * MS));
        assert_eq!(cadence.due(), Some(due + 1205 * MS));
        assert_eq!(cadence.next_delay(due + 215 * MS), 970 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_commit_at_first_sight_of_a_later_wait_places_the_signature() {
        let start = Instant::now();
        let mut cadence = learned(start);
        // Waited for since 1990 ms, committed when first asked at 2000 ms: a signature came
        // in between, 15 ms before the rounds expected it (due at 2005 ms).
        cadence.on_round(RoundSeen {
            committed_waited_since: Some(start + 1990 * MS),
            ..round(start + 2000 * MS)
        });
        assert!(cadence.take_follow_up());
        assert_eq!(cadence.interval(), Some(1000 * MS), "no rhythm sample");
        let due = start + 2995 * MS;
        assert_eq!(cadence.due(), Some(due));
        // One waited for before that signature says nothing new.
        cadence.on_round(RoundSeen {
            committed_waited_since: Some(start + 1992 * MS),
            ..round(start + 2001 * MS)
        });
        assert!(!cadence.take_follow_up());
        assert_eq!(cadence.due(), Some(due));
    }

    #[tokio::test(start_paused = true)]
    async fn a_changed_rhythm_is_learned_anew_after_three_samples() {
        let start = Instant::now();
        let mut cadence = learned(start);
        // Signatures every 400 ms from now on: one gap of 400 ms is a beat of its own.
        let mut at = start + 1005 * MS;
        for _ in 0..2 {
            at += 400 * MS;
            cadence.on_round(signature(at - 5 * MS, at + 5 * MS));
            assert_eq!(cadence.interval(), Some(1000 * MS), "an outlier");
        }
        at += 400 * MS;
        cadence.on_round(signature(at - 5 * MS, at + 5 * MS));
        assert_eq!(cadence.interval(), Some(400 * MS));
        assert_eq!(cadence.due(), Some(at + 400 * MS));
    }

    #[tokio::test(start_paused = true)]
    async fn after_an_idle_time_a_task_starts_at_the_next_due_signature() {
        let start = Instant::now();
        let mut cadence = learned(start);
        let due = start + 2005 * MS;
        cadence.restart(due + 5500 * MS);
        assert_eq!(cadence.due(), Some(due + 6000 * MS));
        assert_eq!(cadence.start_delay(due + 5500 * MS), 480 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_and_the_cap_holds() {
        let mut cadence = Cadence::new(30 * MS);
        let now = Instant::now();
        for _ in 0..20 {
            cadence.on_round(round(now));
        }
        assert_eq!(cadence.next_delay(now), 30 * MS);
        cadence.on_round(RoundSeen {
            retry_after: Some(3000 * MS),
            ..round(now)
        });
        assert_eq!(cadence.next_delay(now), 3000 * MS);
        cadence.on_round(RoundSeen {
            retry_after: Some(50 * MS),
            ..signature(now, now)
        });
        assert_eq!(
            cadence.next_delay(now),
            50 * MS,
            "a follow-up still waits as asked"
        );
        // After an idle time the backoff starts over.
        cadence.take_follow_up();
        for _ in 0..20 {
            cadence.on_round(round(now));
        }
        cadence.restart(now + 60_000 * MS);
        assert_eq!(cadence.next_delay(now + 60_000 * MS), 10 * MS);
        // A learned rhythm longer than the cap still asks at least every cap.
        let mut capped = learned(now);
        capped.cap = 100 * MS;
        assert_eq!(capped.next_delay(now + 1015 * MS), 100 * MS);
    }
}

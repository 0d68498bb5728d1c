//! What a client's commit watcher knows about commits, and which transactions it waits for:
//! pure bookkeeping, no I/O (see [`super::commit_watcher`] for the task that polls).
//!
//! CCF commits a prefix of each view: once `(view, seqno)` is `Committed`, every transaction
//! of the same view with a smaller seqno is committed too. A rollback truncates a suffix of a
//! view: once `(view, seqno)` is `Invalid`, every transaction of that view with a larger seqno
//! is invalid too. Nothing is inferred across views: a transaction of an earlier view is
//! settled only by an answer about a transaction of its own view.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use tokio::time::Instant;

use crate::TransactionId;

/// How many transactions of a view a follow-up round asks about.
pub(crate) const FOLLOW_UP_PROBES: usize = 2;

/// What is known for certain about a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Committed (an answer about it, or about a later transaction of its view).
    Committed,
    /// Rolled back (an answer about it, or about an earlier transaction of its view).
    Invalid,
}

/// The waits outstanding, each with what its owner keeps for it (`W`: the watcher keeps
/// where the wait reads its answers), and what answers taught. Every operation but a
/// follow-up's is logarithmic in the number of waits (plus the waits it returns): a client
/// may have tens of thousands outstanding, and the watcher consults the book for each
/// answer. One ordered map holds the waits: a wait is found by its transaction and key,
/// which its owner knows.
#[derive(Debug)]
pub(crate) struct CommitBook<W> {
    /// The waits in transaction order: (view, seqno, waiter key) -> the wait.
    waits: BTreeMap<(u64, u64, u64), Waiting<W>>,
    /// Per view, the highest seqno known committed.
    committed: BTreeMap<u64, u64>,
    /// Per view, the lowest seqno known invalid.
    invalid_from: BTreeMap<u64, u64>,
}

/// One outstanding wait.
#[derive(Debug)]
struct Waiting<W> {
    /// When the wait began.
    since: Instant,
    kept: W,
}

impl<W> Default for CommitBook<W> {
    fn default() -> Self {
        Self {
            waits: BTreeMap::new(),
            committed: BTreeMap::new(),
            invalid_from: BTreeMap::new(),
        }
    }
}

/// The waits of `view` from `seqno` (inclusive) to `until` (inclusive), as a key range.
fn span(view: u64, seqno: u64, until: u64) -> RangeInclusive<(u64, u64, u64)> {
    (view, seqno, 0)..=(view, until, u64::MAX)
}

impl<W> CommitBook<W> {
    /// What is already known about `id`, if anything.
    pub(crate) fn known(&self, id: TransactionId) -> Option<Settled> {
        if self
            .committed
            .get(&id.view)
            .is_some_and(|&top| id.seqno <= top)
        {
            return Some(Settled::Committed);
        }
        if self
            .invalid_from
            .get(&id.view)
            .is_some_and(|&from| id.seqno >= from)
        {
            return Some(Settled::Invalid);
        }
        None
    }

    /// Starts waiting for `id` under `key` (unique to the wait), the wait having begun at
    /// `at`, keeping `kept` for it.
    pub(crate) fn add_at(&mut self, key: u64, id: TransactionId, at: Instant, kept: W) {
        self.waits
            .insert((id.view, id.seqno, key), Waiting { since: at, kept });
    }

    /// When the earliest wait for exactly `id` began (`None` when none is outstanding).
    pub(crate) fn waited_since(&self, id: TransactionId) -> Option<Instant> {
        self.waits
            .range(span(id.view, id.seqno, id.seqno))
            .map(|(_, wait)| wait.since)
            .min()
    }

    /// Stops the wait for `id` under `key` (it ended or was dropped); what was kept for it.
    pub(crate) fn remove(&mut self, key: u64, id: TransactionId) -> Option<W> {
        self.waits
            .remove(&(id.view, id.seqno, key))
            .map(|wait| wait.kept)
    }

    /// No wait is outstanding.
    pub(crate) fn is_empty(&self) -> bool {
        self.waits.is_empty()
    }

    /// The views with waits, in order.
    fn views(&self) -> impl Iterator<Item = u64> + '_ {
        let mut from = Some(0);
        std::iter::from_fn(move || {
            let (&(view, ..), _) = self.waits.range((from?, 0, 0)..).next()?;
            from = view.checked_add(1);
            Some(view)
        })
    }

    /// Starts a round: the transactions to ask about, one per view with waits: the lowest
    /// waited for. A signature commits a prefix of its view, so the lowest wait is the first
    /// any new signature commits (asking about the newest instead would find it pending for
    /// as long as writes keep coming); a follow-up then finds how far the commit reaches.
    pub(crate) fn targets(&mut self) -> Vec<TransactionId> {
        self.views()
            .filter_map(|view| {
                let (&(view, seqno, _), _) = self.waits.range(span(view, 0, u64::MAX)).next()?;
                Some(TransactionId::new(view, seqno))
            })
            .collect()
    }

    /// A follow-up round right after a commit was seen: in each view, up to
    /// [`FOLLOW_UP_PROBES`] of the transactions waited for, evenly spread over the seqnos from
    /// the lowest waited for to the highest below the view's ceiling in `ceilings` (the lowest
    /// seqno a follow-up found pending; without one, the highest waited for). Each probe is the
    /// first wait at or above its share of the way; the last is the highest. A signature
    /// commits a prefix: the highest committed one settles all below it, and a pending one
    /// lowers the ceiling, so that the next follow-up looks below it. Logarithmic in the
    /// waits, as every other round.
    pub(crate) fn follow_up_targets(&self, ceilings: &BTreeMap<u64, u64>) -> Vec<TransactionId> {
        let mut targets = Vec::new();
        for view in self.views() {
            // The highest seqno a probe may take: below the ceiling (none below 0).
            let top = match ceilings.get(&view) {
                Some(&ceiling) => match ceiling.checked_sub(1) {
                    Some(top) => top,
                    None => continue,
                },
                None => u64::MAX,
            };
            let mut waits = self.waits.range(span(view, 0, top));
            let Some((&(_, lowest, _), _)) = waits.next() else {
                continue;
            };
            let highest = waits
                .next_back()
                .map_or(lowest, |(&(_, seqno, _), _)| seqno);
            let from = targets.len();
            for i in 1..=FOLLOW_UP_PROBES as u128 {
                let share = (u128::from(highest - lowest) * i / FOLLOW_UP_PROBES as u128) as u64;
                let Some((&(_, seqno, _), _)) = self
                    .waits
                    .range(span(view, lowest + share, u64::MAX))
                    .next()
                else {
                    continue;
                };
                if targets[from..].last() != Some(&TransactionId::new(view, seqno)) {
                    targets.push(TransactionId::new(view, seqno));
                }
            }
        }
        targets
    }

    /// Whether some view of `ceilings` has a wait below its ceiling (a commit found by a
    /// follow-up may reach it).
    pub(crate) fn waits_below(&self, ceilings: &BTreeMap<u64, u64>) -> bool {
        ceilings.iter().any(|(&view, &ceiling)| {
            ceiling > 0
                && self
                    .waits
                    .range(span(view, 0, ceiling - 1))
                    .next()
                    .is_some()
        })
    }

    /// Records that `id` is `settled`; ends the waits this settles (they are removed from
    /// the book), handing what was kept for each to `ended`.
    pub(crate) fn settle(&mut self, id: TransactionId, settled: Settled, ended: impl FnMut(W)) {
        let (view, seqno) = (id.view, id.seqno);
        let reached = match settled {
            Settled::Committed => {
                let top = self.committed.entry(view).or_insert(seqno);
                *top = (*top).max(seqno);
                span(view, 0, *top)
            }
            Settled::Invalid => {
                let from = self.invalid_from.entry(view).or_insert(seqno);
                *from = (*from).min(seqno);
                span(view, *from, u64::MAX)
            }
        };
        self.end_all(reached, ended);
    }

    /// Ends the waits in `range` (removed from the book), handing what was kept for each to
    /// `ended`, without making a list of them. A commit usually settles the lowest waits of
    /// the book (the rounds ask about them), so those are taken from its front; the rest of
    /// the range, if any, one search each.
    fn end_all(&mut self, range: RangeInclusive<(u64, u64, u64)>, mut ended: impl FnMut(W)) {
        while let Some(first) = self.waits.first_entry() {
            if !range.contains(first.key()) {
                break;
            }
            ended(first.remove().kept);
        }
        while let Some((&at, _)) = self.waits.range(range.clone()).next() {
            if let Some(wait) = self.waits.remove(&at) {
                ended(wait.kept);
            }
        }
    }

    /// What is kept for each wait for exactly `id`.
    pub(crate) fn waiting_for(&self, id: TransactionId) -> impl Iterator<Item = &W> {
        self.waits
            .range(span(id.view, id.seqno, id.seqno))
            .map(|(_, wait)| &wait.kept)
    }

    /// Ends every wait for exactly `id`, handing what was kept for each to `ended`.
    pub(crate) fn remove_all_for(&mut self, id: TransactionId, ended: impl FnMut(W)) {
        self.end_all(span(id.view, id.seqno, id.seqno), ended);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(view: u64, seqno: u64) -> TransactionId {
        TransactionId::new(view, seqno)
    }

    impl CommitBook<u64> {
        /// Starts waiting for `id` under `key`, keeping the key.
        fn add(&mut self, key: u64, id: TransactionId) {
            self.add_at(key, id, Instant::now(), key);
        }
    }

    /// The keys of the waits `settled` ends, in order.
    fn settle(
        book: &mut CommitBook<u64>,
        id: TransactionId,
        settled: Settled,
    ) -> Vec<(u64, Settled)> {
        let mut ended = Vec::new();
        book.settle(id, settled, |key| ended.push((key, settled)));
        ended.sort_unstable_by_key(|(key, _)| *key);
        ended
    }

    /// Removes each `(key, id)` wait, asserting it was there, then that none is left.
    fn remove_the_rest(book: &mut CommitBook<u64>, waits: &[(u64, TransactionId)]) {
        for &(key, id) in waits {
            assert_eq!(book.remove(key, id), Some(key), "{key} is still waiting");
        }
        assert!(book.is_empty());
    }

    fn waiting(book: &CommitBook<u64>, id: TransactionId) -> Vec<u64> {
        book.waiting_for(id).copied().collect()
    }

    #[test]
    fn a_commit_settles_the_earlier_transactions_of_its_view_only() {
        let mut book = CommitBook::default();
        book.add(1, id(2, 10));
        book.add(2, id(2, 20));
        book.add(3, id(2, 30));
        book.add(4, id(1, 15)); // an earlier view: not settled by view 2's commit
        book.add(5, id(3, 5)); // a later view: not settled either
        let settled = settle(&mut book, id(2, 20), Settled::Committed);
        assert_eq!(settled, [(1, Settled::Committed), (2, Settled::Committed)]);
        assert_eq!(book.known(id(2, 19)), Some(Settled::Committed));
        assert_eq!(book.known(id(2, 21)), None);
        assert_eq!(book.known(id(1, 15)), None);
        assert_eq!(book.known(id(3, 5)), None);
        assert_eq!(waiting(&book, id(2, 30)), [3]);
        // The earlier view is asked about on its own.
        let targets = book.targets();
        assert!(targets.contains(&id(1, 15)), "{targets:?}");
        assert!(targets.contains(&id(3, 5)), "{targets:?}");
        assert!(targets.contains(&id(2, 30)), "{targets:?}");
    }

    #[test]
    fn a_rollback_invalidates_the_later_transactions_of_its_view_only() {
        let mut book = CommitBook::default();
        book.add(1, id(2, 10));
        book.add(2, id(2, 20));
        book.add(3, id(2, 30));
        book.add(4, id(3, 25)); // the new view's transaction at a rolled-back seqno
        settle(&mut book, id(2, 10), Settled::Committed);
        let settled = settle(&mut book, id(2, 20), Settled::Invalid);
        assert_eq!(settled, [(2, Settled::Invalid), (3, Settled::Invalid)]);
        assert_eq!(book.known(id(2, 10)), Some(Settled::Committed));
        assert_eq!(
            book.known(id(2, 15)),
            None,
            "between the commit and the rollback"
        );
        assert_eq!(book.known(id(3, 25)), None);
        let settled = settle(&mut book, id(3, 40), Settled::Committed);
        assert_eq!(settled, [(4, Settled::Committed)]);
        assert!(book.is_empty());
    }

    #[test]
    fn rounds_ask_about_the_lowest_wait_of_each_view() {
        let mut book = CommitBook::default();
        book.add(1, id(2, 11));
        book.add(2, id(2, 10));
        book.add(3, id(2, 12));
        book.add(4, id(3, 2));
        assert_eq!(book.targets(), [id(2, 10), id(3, 2)]);
        assert_eq!(book.remove(2, id(2, 10)), Some(2));
        assert_eq!(book.remove(2, id(2, 10)), None, "removed once");
        assert_eq!(
            book.remove(1, id(2, 12)),
            None,
            "another wait's transaction"
        );
        assert_eq!(book.targets(), [id(2, 11), id(3, 2)]);
        remove_the_rest(&mut book, &[(1, id(2, 11)), (3, id(2, 12)), (4, id(3, 2))]);
        assert!(book.targets().is_empty());
        assert!(book.follow_up_targets(&BTreeMap::new()).is_empty());
    }

    #[test]
    fn a_final_answer_ends_exactly_the_waits_for_its_transaction() {
        let mut book = CommitBook::default();
        book.add(1, id(2, 10));
        book.add(2, id(2, 11));
        book.add(3, id(2, 11));
        book.add(4, id(2, 12));
        book.add(5, id(3, 11));
        let mut ended = Vec::new();
        book.remove_all_for(id(2, 11), |key| ended.push(key));
        assert_eq!(ended, [2, 3]);
        assert_eq!(waiting(&book, id(2, 11)), Vec::<u64>::new());
        assert_eq!(book.targets(), [id(2, 10), id(3, 11)]);
        remove_the_rest(&mut book, &[(1, id(2, 10)), (4, id(2, 12)), (5, id(3, 11))]);
    }

    #[test]
    fn follow_ups_spread_their_probes_over_the_waits_of_each_view() {
        let mut book = CommitBook::default();
        for (key, seqno) in (20..40).enumerate() {
            book.add(key as u64, id(2, seqno));
        }
        book.add(100, id(3, 7));
        assert_eq!(FOLLOW_UP_PROBES, 2, "the probes below");
        // The middle and the highest of view 2 (20..=39), the only one of view 3.
        assert_eq!(
            book.follow_up_targets(&BTreeMap::new()),
            [id(2, 29), id(2, 39), id(3, 7)]
        );
        // Spread by seqno: halfway from 20 to 1000 is 510, and the first wait at or above
        // it is 1000's; two waits for one transaction make one probe.
        book.add(101, id(2, 1000));
        book.add(102, id(2, 1000));
        assert_eq!(
            book.follow_up_targets(&BTreeMap::new()),
            [id(2, 1000), id(3, 7)]
        );
        book.add(103, id(2, 600));
        assert_eq!(
            book.follow_up_targets(&BTreeMap::new()),
            [id(2, 600), id(2, 1000), id(3, 7)]
        );
    }

    #[test]
    fn follow_ups_stay_below_a_views_ceiling() {
        let mut book = CommitBook::default();
        for seqno in 11..=20 {
            book.add(seqno, id(2, seqno));
        }
        book.add(100, id(3, 7));
        let ceilings = BTreeMap::from([(2, 15)]);
        // View 2 below 15 (11..=14), view 3 as it is.
        assert_eq!(
            book.follow_up_targets(&ceilings),
            [id(2, 12), id(2, 14), id(3, 7)]
        );
        assert!(book.waits_below(&ceilings));
        assert!(
            !book.waits_below(&BTreeMap::from([(2, 11)])),
            "none below 11"
        );
        assert!(!book.waits_below(&BTreeMap::from([(2, 0)])));
        // A ceiling at the lowest wait leaves nothing to probe in its view.
        assert_eq!(
            book.follow_up_targets(&BTreeMap::from([(2, 11), (3, 0)])),
            Vec::<TransactionId>::new()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn it_knows_since_when_a_transaction_is_waited_for() {
        let mut book = CommitBook::default();
        let first = Instant::now();
        book.add(1, id(2, 10));
        tokio::time::advance(std::time::Duration::from_millis(30)).await;
        book.add(2, id(2, 10));
        book.add(3, id(2, 11));
        assert_eq!(
            book.waited_since(id(2, 10)),
            Some(first),
            "the earliest wait"
        );
        assert_eq!(
            book.waited_since(id(2, 11)),
            Some(first + std::time::Duration::from_millis(30))
        );
        assert_eq!(book.waited_since(id(2, 12)), None);
        book.remove(1, id(2, 10));
        book.remove(2, id(2, 10));
        assert_eq!(book.waited_since(id(2, 10)), None);
    }
}

//! What a client's commit watcher knows about commits, and which transactions it waits for:
//! pure bookkeeping, no I/O (see [`super::commit_watcher`] for the task that polls).
//!
//! CCF commits a prefix of each view: once `(view, seqno)` is `Committed`, every transaction
//! of the same view with a smaller seqno is committed too. A rollback truncates a suffix of a
//! view: once `(view, seqno)` is `Invalid`, every transaction of that view with a larger seqno
//! is invalid too. Nothing is inferred across views: a transaction of an earlier view is
//! settled only by an answer about a transaction of its own view.

use std::collections::{BTreeMap, HashMap};

use crate::TransactionId;

/// What is known for certain about a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Committed (an answer about it, or about a later transaction of its view).
    Committed,
    /// Rolled back (an answer about it, or about an earlier transaction of its view).
    Invalid,
}

/// The waits outstanding and what answers taught.
#[derive(Debug, Default)]
pub(crate) struct CommitBook {
    /// Waiter key -> (transaction, round in progress when it was added).
    waiters: HashMap<u64, (TransactionId, u64)>,
    /// Per view, the highest seqno known committed.
    committed: BTreeMap<u64, u64>,
    /// Per view, the lowest seqno known invalid.
    invalid_from: BTreeMap<u64, u64>,
    /// Rounds started so far.
    round: u64,
}

impl CommitBook {
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

    /// Starts waiting for `id` under `key`.
    pub(crate) fn add(&mut self, key: u64, id: TransactionId) {
        self.waiters.insert(key, (id, self.round));
    }

    /// Stops waiting under `key` (the wait ended or was dropped).
    pub(crate) fn remove(&mut self, key: u64) {
        self.waiters.remove(&key);
    }

    /// No wait is outstanding.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Starts a round: the transactions to ask about, one per view with waits.
    ///
    /// In each view it asks about the highest transaction that was already waited for when
    /// the previous round started (older waits are the ones a signature since then may have
    /// committed; asking about the newest write instead would find it pending forever while
    /// writes keep coming), or about the highest of the view when none is that old.
    pub(crate) fn targets(&mut self) -> Vec<TransactionId> {
        self.round += 1;
        self.pick(self.round.saturating_sub(2))
    }

    /// A follow-up round right after a commit was seen: the highest transaction of each view
    /// that was waited for when the round that saw it started.
    pub(crate) fn follow_up_targets(&mut self) -> Vec<TransactionId> {
        self.round += 1;
        self.pick(self.round.saturating_sub(1))
    }

    fn pick(&self, old_until: u64) -> Vec<TransactionId> {
        // view -> (highest old seqno, highest seqno)
        let mut per_view: BTreeMap<u64, (Option<u64>, u64)> = BTreeMap::new();
        for &(id, added) in self.waiters.values() {
            let entry = per_view.entry(id.view).or_insert((None, id.seqno));
            entry.1 = entry.1.max(id.seqno);
            if added <= old_until {
                entry.0 = Some(entry.0.map_or(id.seqno, |s| s.max(id.seqno)));
            }
        }
        per_view
            .into_iter()
            .map(|(view, (old, newest))| TransactionId::new(view, old.unwrap_or(newest)))
            .collect()
    }

    /// Records that `id` is `settled`; returns the keys of the waits this settles (they are
    /// removed from the book), with how each ended.
    pub(crate) fn settle(&mut self, id: TransactionId, settled: Settled) -> Vec<(u64, Settled)> {
        let (view, seqno) = (id.view, id.seqno);
        match settled {
            Settled::Committed => {
                let top = self.committed.entry(view).or_insert(seqno);
                *top = (*top).max(seqno);
            }
            Settled::Invalid => {
                let from = self.invalid_from.entry(view).or_insert(seqno);
                *from = (*from).min(seqno);
            }
        }
        let done: Vec<(u64, Settled)> = self
            .waiters
            .iter()
            .filter_map(|(&key, &(waited, _))| self.known(waited).map(|s| (key, s)))
            .collect();
        for (key, _) in &done {
            self.waiters.remove(key);
        }
        done
    }

    /// The keys waiting for exactly `id`.
    pub(crate) fn waiting_for(&self, id: TransactionId) -> Vec<u64> {
        self.waiters
            .iter()
            .filter(|(_, (waited, _))| *waited == id)
            .map(|(&key, _)| key)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(view: u64, seqno: u64) -> TransactionId {
        TransactionId::new(view, seqno)
    }

    fn keys(mut settled: Vec<(u64, Settled)>) -> Vec<(u64, Settled)> {
        settled.sort_unstable_by_key(|(key, _)| *key);
        settled
    }

    #[test]
    fn a_commit_settles_the_earlier_transactions_of_its_view_only() {
        let mut book = CommitBook::default();
        book.add(1, id(2, 10));
        book.add(2, id(2, 20));
        book.add(3, id(2, 30));
        book.add(4, id(1, 15)); // an earlier view: not settled by view 2's commit
        book.add(5, id(3, 5)); // a later view: not settled either
        let settled = keys(book.settle(id(2, 20), Settled::Committed));
        assert_eq!(settled, [(1, Settled::Committed), (2, Settled::Committed)]);
        assert_eq!(book.known(id(2, 19)), Some(Settled::Committed));
        assert_eq!(book.known(id(2, 21)), None);
        assert_eq!(book.known(id(1, 15)), None);
        assert_eq!(book.known(id(3, 5)), None);
        assert_eq!(book.waiting_for(id(2, 30)), [3]);
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
        book.settle(id(2, 10), Settled::Committed);
        let settled = keys(book.settle(id(2, 20), Settled::Invalid));
        assert_eq!(settled, [(2, Settled::Invalid), (3, Settled::Invalid)]);
        assert_eq!(book.known(id(2, 10)), Some(Settled::Committed));
        assert_eq!(
            book.known(id(2, 15)),
            None,
            "between the commit and the rollback"
        );
        assert_eq!(book.known(id(3, 25)), None);
        let settled = book.settle(id(3, 40), Settled::Committed);
        assert_eq!(settled, [(4, Settled::Committed)]);
        assert!(book.is_empty());
    }

    #[test]
    fn rounds_ask_about_waits_older_than_the_previous_round() {
        let mut book = CommitBook::default();
        book.add(1, id(2, 10));
        // Only one wait: it is asked about, old or not.
        assert_eq!(book.targets(), [id(2, 10)]);
        book.add(2, id(2, 11));
        assert_eq!(
            book.targets(),
            [id(2, 10)],
            "11 came after the previous round"
        );
        book.add(3, id(2, 12));
        assert_eq!(book.targets(), [id(2, 11)]);
        assert_eq!(book.targets(), [id(2, 12)]);
        book.remove(3);
        book.remove(2);
        assert_eq!(book.follow_up_targets(), [id(2, 10)]);
        book.remove(1);
        assert!(book.is_empty());
        assert!(book.targets().is_empty());
    }
}

//! Spotting pages that lead back to themselves: a chain of empty pages in constant memory
//! ([`LoopDetector`]), and any link fetched before in the walk ([`LinkSet`], bounded).

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use super::page::PageRequest;

/// The most links a [`LinkSet`] remembers: 100,000 pages (about 100 million entries at the
/// service's 1000 per page), 8 bytes each. Beyond it, only a page linking to itself and
/// circles of empty pages are still caught.
pub(crate) const MAX_REMEMBERED_LINKS: usize = 100_000;

/// The links fetched so far in one walk of a list, as keyed hashes (a link is never kept
/// whole); at most [`MAX_REMEMBERED_LINKS`].
#[derive(Debug, Default)]
pub(crate) struct LinkSet {
    keys: RandomState,
    hashes: HashSet<u64>,
}

impl LinkSet {
    pub(crate) fn insert(&mut self, link: &str) {
        if self.hashes.len() < MAX_REMEMBERED_LINKS {
            let hash = self.keys.hash_one(link);
            self.hashes.insert(hash);
        }
    }

    pub(crate) fn contains(&self, link: &str) -> bool {
        self.hashes.contains(&self.keys.hash_one(link))
    }
}

/// Watches the links of consecutive empty `Ready` pages for a loop (Brent's cycle detection).
///
/// A loop shows as a link the pager already fetched since the last page that made progress.
/// Remembering every link would grow with the chain, so only one checkpoint link is kept: it
/// moves to the current link after 1, 2, 4, 8, ... steps. A loop of length `n` entered after
/// `m` steps is reported within about `4 * (m + n)` steps; a page that links to itself is
/// reported at once. Chains that keep moving (the usual sparse range query) are never reported.
#[derive(Debug, Clone)]
pub(crate) struct LoopDetector {
    checkpoint: Option<String>,
    power: u64,
    steps: u64,
}

impl LoopDetector {
    pub(crate) fn new() -> Self {
        Self {
            checkpoint: None,
            power: 1,
            steps: 0,
        }
    }

    /// Progress was made (a page with items): forget the chain.
    pub(crate) fn reset(&mut self) {
        *self = Self::new();
    }

    /// An empty page fetched with `requested` links to `next`. Whether `next` was fetched
    /// before in this chain.
    pub(crate) fn revisits(&mut self, requested: &PageRequest, next: &str) -> bool {
        if requested.next_link() == Some(next) || self.checkpoint.as_deref() == Some(next) {
            return true;
        }
        self.steps += 1;
        if self.steps >= self.power {
            self.checkpoint = Some(next.to_owned());
            self.power = self.power.saturating_mul(2);
            self.steps = 0;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Follows `links` from `start` (a chain of empty pages) and says after how many pages a
    /// loop was reported, if within `limit`.
    fn walk(start: &str, next: impl Fn(&str) -> String, limit: usize) -> Option<usize> {
        let mut detector = LoopDetector::new();
        let mut current = PageRequest::Next(start.to_owned());
        for page in 1..=limit {
            let link = next(current.next_link().unwrap_or_default());
            if detector.revisits(&current, &link) {
                return Some(page);
            }
            current = PageRequest::Next(link);
        }
        None
    }

    fn numbered(n: u64) -> String {
        format!("/app/transactions?fromTransactionId=2.{n}")
    }

    fn number(link: &str) -> u64 {
        link.rsplit('.')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    #[test]
    fn a_page_linking_to_itself_is_reported_at_once() {
        assert_eq!(walk("/a", |link| link.to_owned(), 10), Some(1));
    }

    #[test]
    fn a_moving_chain_is_never_reported() {
        assert_eq!(
            walk(&numbered(0), |link| numbered(number(link) + 100), 100_000),
            None
        );
    }

    #[test]
    fn loops_of_any_length_and_offset_are_reported_quickly() {
        for offset in 0..20u64 {
            for length in 1..50u64 {
                // 0 -> 1 -> ... -> offset -> ... -> offset + length - 1 -> offset -> ...
                let next = |link: &str| {
                    let n = number(link) + 1;
                    numbered(if n >= offset + length { offset } else { n })
                };
                let found = walk(&numbered(0), next, 10_000)
                    .unwrap_or_else(|| panic!("loop {offset}+{length} not reported"));
                let bound = 4 * (offset + length) as usize + 2;
                assert!(
                    found <= bound,
                    "loop {offset}+{length} took {found} > {bound} pages"
                );
            }
        }
    }

    #[test]
    fn first_requests_have_no_link_to_compare() {
        let mut detector = LoopDetector::new();
        assert!(!detector.revisits(&PageRequest::First, "/a"));
        assert!(detector.revisits(&PageRequest::Next("/a".to_owned()), "/a"));
    }

    #[test]
    fn reset_forgets_the_chain() {
        let mut detector = LoopDetector::new();
        assert!(!detector.revisits(&PageRequest::Next("/a".into()), "/b"));
        detector.reset();
        assert!(!detector.revisits(&PageRequest::Next("/c".into()), "/b"));
    }
}

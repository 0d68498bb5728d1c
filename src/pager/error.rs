//! What can end paging besides the fetch function's own errors: [`PagingError`].

use std::time::Duration;

/// Why a pager stopped on its own: the service kept a page `Loading` too long, or its empty
/// pages went round in circles.
///
/// A pager's error type `E` must be able to hold these (`E: From<PagingError>`); after either,
/// the stream ends and its `continuation()` still points at the page that failed, so paging can
/// be resumed later.
///
/// # Examples
///
/// ```
/// use confidential_ledger::pager::PagingError;
///
/// let err = PagingError::NoProgress { link: "/app/transactions?x=1".into(), retries: 3 };
/// assert_eq!(
///     err.to_string(),
///     "paging made no progress: empty pages kept leading back to /app/transactions?x=1 (retried 3 times)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingError {
    /// A page was still `Loading` when [`PagerOptions::loading_timeout`](crate::pager::PagerOptions::loading_timeout) passed.
    #[error("page still loading after waiting {waited:?} ({fetches} fetches)")]
    LoadingTimedOut {
        /// How long the pager waited, from the first `Loading` answer.
        waited: Duration,
        /// How many `Loading` answers it got for this page.
        fetches: u32,
    },
    /// Empty `Ready` pages kept linking back to pages already fetched since the last item.
    #[error(
        "paging made no progress: empty pages kept leading back to {link} (retried {retries} times)"
    )]
    NoProgress {
        /// The link the pages led back to.
        link: String,
        /// How many times the pager retried before giving up.
        retries: u32,
    },
    /// A page with items linked to a page this pager already fetched: following it would hand
    /// out the same items again, and a page linking to itself would be fetched forever.
    #[error(
        "the pages link back to {link}, which was already fetched; the list goes round in a circle"
    )]
    RepeatedLink {
        /// The link that came back.
        link: String,
    },
}

//! How a pager waits: [`PagerOptions`].

use std::time::Duration;

use crate::poller::PollingOptions;

/// How a [`Pager`](crate::pager::Pager) waits out `Loading` pages and how far it follows empty
/// pages that make no progress.
///
/// # Defaults
///
/// | field | default |
/// |---|---|
/// | [`polling`](Self::polling) | [`PollingOptions::default()`] (25 ms growing to 1 s) |
/// | [`loading_timeout`](Self::loading_timeout) | 2 minutes |
/// | [`no_progress_retries`](Self::no_progress_retries) | 3 |
/// | [`max_retry_after`](Self::max_retry_after) | 60 s |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::pager::PagerOptions;
///
/// let options = PagerOptions {
///     loading_timeout: Some(Duration::from_secs(30)),
///     ..Default::default()
/// };
/// assert_eq!(options.no_progress_retries, 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PagerOptions {
    /// Delays between fetches of a page that is still `Loading` (and between retries of an
    /// empty page that made no progress). Reset by every page that makes progress.
    pub polling: PollingOptions,
    /// The longest a single page may stay `Loading`, from its first `Loading` answer, before
    /// the pager fails with [`PagingError::LoadingTimedOut`](crate::pager::PagingError::LoadingTimedOut).
    /// `None` waits as long as it takes (still with delays, never in a busy loop).
    pub loading_timeout: Option<Duration>,
    /// How many times in a row the pager retries, with a delay, when empty `Ready` pages lead
    /// back to a link it already fetched since the last item, before failing with
    /// [`PagingError::NoProgress`](crate::pager::PagingError::NoProgress).
    pub no_progress_retries: u32,
    /// The longest wait the pager sits out when the ledger asks for one (`Retry-After`) on a
    /// `Loading` page or a page that made no progress; a longer request is cut to this. Every
    /// wait is also cut to what is left of [`loading_timeout`](Self::loading_timeout), which
    /// bounds the no-progress retries too.
    pub max_retry_after: Duration,
}

impl Default for PagerOptions {
    fn default() -> Self {
        Self {
            polling: PollingOptions::default(),
            loading_timeout: Some(Duration::from_secs(120)),
            no_progress_retries: 3,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

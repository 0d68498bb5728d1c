//! [`Pager`] and [`Pages`]: the client's lists as iterators.

use std::fmt;

use futures::StreamExt;

use super::runtime::Runtime;
use crate::Error;
use crate::pager::{Continuation, Page, PagerOptions};

/// A lazy iterator over the items of a paged list: the blocking form of [`crate::Pager`].
///
/// It fetches a page only when the items of the previous one are used up, follows the
/// ledger's `nextLink`s, waits out `Loading` pages with backoff, and holds one page at a time.
/// An error is yielded once and ends the iteration. [`into_pages`](Self::into_pages) gives the
/// same walk a page at a time.
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::client::ListLedgerEntriesOptions;
/// # fn run(client: confidential_ledger::blocking::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// for entry in client.list_ledger_entries(Some(ListLedgerEntriesOptions::new().collection_id("audit"))) {
///     let entry = entry?;
///     println!("{}: {}", entry.transaction_id, entry.contents);
/// }
/// # Ok(()) }
/// ```
#[must_use = "iterators do nothing unless iterated"]
pub struct Pager<T> {
    /// `None` only while fetching on the runtime thread, or after that panicked.
    inner: Option<crate::Pager<T, Error>>,
    runtime: Runtime,
}

impl<T: Send + 'static> Pager<T> {
    pub(crate) fn new(inner: crate::Pager<T, Error>, runtime: Runtime) -> Self {
        Self {
            inner: Some(inner),
            runtime,
        }
    }

    /// Uses `options` to wait out `Loading` pages and to bound empty pages without progress;
    /// see [`crate::Pager::with_options`].
    pub fn with_options(mut self, options: PagerOptions) -> Self {
        self.inner = self.inner.map(|inner| inner.with_options(options));
        self
    }

    /// The same walk, a page at a time. Items of the current page not handed out yet come
    /// first, as a page of their own.
    pub fn into_pages(self) -> Pages<T> {
        Pages {
            inner: self.inner.map(crate::Pager::into_pages),
            runtime: self.runtime,
        }
    }

    /// Where to resume to get every item not handed out yet; see
    /// [`crate::Pager::continuation`].
    pub fn continuation(&self) -> Option<Continuation> {
        self.inner.as_ref().and_then(crate::Pager::continuation)
    }
}

impl<T: Send + 'static> Iterator for Pager<T> {
    type Item = Result<T, Error>;

    /// The next item, fetching the next page when needed.
    ///
    /// # Panics
    ///
    /// Inside an async execution context; see [the module documentation](super#async-contexts).
    fn next(&mut self) -> Option<Result<T, Error>> {
        let mut inner = self.inner.take()?;
        let (inner, item) = self.runtime.block_on(async move {
            let item = inner.next().await;
            (inner, item)
        });
        // Kept after the end or an error too: it answers `None` from then on, and its
        // continuation points at the request that failed.
        self.inner = Some(inner);
        item
    }
}

impl<T> fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// A lazy iterator over the pages of a list: the blocking form of [`crate::Pages`], from
/// [`Pager::into_pages`].
///
/// It yields every `Ready` page (empty ones too), waits out `Loading` pages, and ends after
/// the page without a next link; an error is yielded once and ends the iteration.
///
/// # Examples
///
/// ```no_run
/// # fn run(client: confidential_ledger::blocking::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// for page in client.list_ledger_entries(None).into_pages() {
///     let page = page?;
///     println!("{} entries, next: {:?}", page.items().len(), page.next_link());
/// }
/// # Ok(()) }
/// ```
#[must_use = "iterators do nothing unless iterated"]
pub struct Pages<T> {
    inner: Option<crate::Pages<T, Error>>,
    runtime: Runtime,
}

impl<T> Pages<T> {
    /// Where to resume to get every page not yielded yet; see [`crate::Pages::continuation`].
    pub fn continuation(&self) -> Option<Continuation> {
        self.inner.as_ref().and_then(crate::Pages::continuation)
    }
}

impl<T: Send + 'static> Iterator for Pages<T> {
    type Item = Result<Page<T>, Error>;

    /// The next page, fetching it.
    ///
    /// # Panics
    ///
    /// Inside an async execution context; see [the module documentation](super#async-contexts).
    fn next(&mut self) -> Option<Result<Page<T>, Error>> {
        let mut inner = self.inner.take()?;
        let (inner, page) = self.runtime.block_on(async move {
            let page = inner.next().await;
            (inner, page)
        });
        self.inner = Some(inner);
        page
    }
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

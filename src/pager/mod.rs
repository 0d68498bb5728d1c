//! Paged lists: [`Pager`] streams the items of every page, following `nextLink`s.
//!
//! A [`Pager`] is built from a *fetch function*: an async closure that gets one page for a
//! [`PageRequest`] ([`First`](PageRequest::First), or [`Next`](PageRequest::Next) with the
//! link of the previous page) and answers a [`RawPage`]: its items, its next link and whether
//! the service is still `Loading`. The pager is a lazy [`Stream`] of `Result<T, E>`:
//!
//! - It fetches a page only when the items of the previous one are used up, and holds at most
//!   one page, so memory stays flat over any number of items.
//! - A page with no next link is the last one.
//! - An empty `Ready` page with a next link is followed at once (range queries over sparse
//!   collections produce many of them).
//! - A `Loading` page (typically empty, with a next link to the same query) is fetched again
//!   after a delay that grows as for a [`Poller`](crate::poller::Poller) (25 ms to 1 s by
//!   default, `Retry-After` honoured), never in a busy loop, for at most
//!   [`PagerOptions::loading_timeout`]. Without a next link the same request is repeated.
//! - Empty `Ready` pages that lead back to a link already fetched since the last item (a page
//!   linking to itself, or a longer circle) make no progress: the pager retries such a link
//!   after a delay up to [`PagerOptions::no_progress_retries`] times in a row (and no longer
//!   than [`PagerOptions::loading_timeout`]), then fails with [`PagingError::NoProgress`].
//! - A page *with items* whose next link was already fetched in this walk (a page linking to
//!   itself, or a longer circle) would hand out the same items again, forever: its items are
//!   handed out, then the stream fails with [`PagingError::RepeatedLink`]. Up to 100,000
//!   fetched links are remembered (as keyed hashes).
//! - Every wait is bounded: a `Retry-After` is cut to [`PagerOptions::max_retry_after`] and to
//!   what is left of [`PagerOptions::loading_timeout`].
//! - An error from the fetch function is yielded and ends the stream.
//!
//! [`Pager::into_pages`] gives the same walk as a stream of [`Page`]s, and
//! [`Pager::continuation`] / [`Pages::continuation`] / [`Page::continuation`] say where to
//! [`resume`](Pager::resume), in this process or another.
//!
//! [`decode_page`] decodes a ledger list response (`nextLink` or the older `@nextLink`,
//! `state`, and the list under its own field name) into a [`RawPage`].
//!
//! # Examples
//!
//! Listing entries from a fake ledger whose first page is still `Loading`:
//!
//! ```
//! use confidential_ledger::pager::{decode_page, PageRequest, Pager, PagingError, RawPage};
//! use futures::TryStreamExt;
//!
//! #[derive(Debug, serde::Deserialize)]
//! struct Entry { contents: String }
//!
//! #[derive(Debug, thiserror::Error)]
//! enum Error {
//!     #[error(transparent)] Paging(#[from] PagingError),
//!     #[error(transparent)] Decode(#[from] serde_json::Error),
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Error> {
//! let mut loaded = false;
//! let entries = Pager::new(move |request: PageRequest| {
//!     // A real fetch function sends `GET /app/transactions?...` or `GET {nextLink}` here.
//!     let body = match (request, loaded) {
//!         (PageRequest::First, _) | (PageRequest::Next(_), false) => {
//!             loaded = true;
//!             r#"{"state": "Loading", "entries": [], "nextLink": "/app/transactions?fromTransactionId=2.1"}"#
//!         }
//!         (PageRequest::Next(_), true) => {
//!             r#"{"state": "Ready", "entries": [{"contents": "hello"}, {"contents": "world"}]}"#
//!         }
//!     };
//!     async move { Ok::<RawPage<Entry>, Error>(decode_page(body.as_bytes(), "entries")?) }
//! });
//!
//! let entries: Vec<Entry> = entries.try_collect().await?;
//! assert_eq!(entries.len(), 2);
//! assert_eq!(entries[1].contents, "world");
//! # Ok(())
//! # }
//! ```

mod decode;
mod error;
mod loop_detector;
mod options;
mod page;
mod pages;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::stream::{FusedStream, Stream};

pub use decode::decode_page;
pub use error::PagingError;
pub use options::PagerOptions;
pub use page::{Continuation, Page, PageRequest, RawPage};
pub use pages::Pages;

/// A lazy stream of the items of a paged list. See the [module documentation](self).
///
/// `T` is the item, `E` the fetch function's error, which must be able to hold the pager's
/// own [`PagingError`]s.
#[must_use = "streams do nothing unless polled"]
pub struct Pager<T, E> {
    pages: Pages<T, E>,
    current: Option<CurrentPage<T>>,
}

/// The page whose items are being handed out.
struct CurrentPage<T> {
    items: std::vec::IntoIter<T>,
    next_link: Option<String>,
    request: PageRequest,
    /// Items of the service's page already handed out (or skipped on resume).
    consumed: usize,
}

impl<T, E> Pager<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// A pager from the first page, with default [`PagerOptions`].
    ///
    /// `fetch` is called once per page; each call returns a future that makes one request.
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: FnMut(PageRequest) -> Fut + Send + 'static,
        Fut: Future<Output = Result<RawPage<T>, E>> + Send + 'static,
    {
        Self::resume(Continuation::first(), fetch)
    }

    /// A pager that starts where `continuation` says: a next link, or a point taken from
    /// [`continuation`](Self::continuation) of an earlier pager.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::pager::{PageRequest, Pager, PagingError, RawPage};
    /// use futures::{StreamExt, TryStreamExt};
    ///
    /// // Pages of three numbers: "/from/0" -> 0, 1, 2, "/from/3" -> 3, 4, 5, ... up to 9.
    /// fn fetch(request: PageRequest) -> impl Future<Output = Result<RawPage<u32>, PagingError>> {
    ///     let from: u32 = request
    ///         .next_link()
    ///         .and_then(|link| link.strip_prefix("/from/")?.parse().ok())
    ///         .unwrap_or(0);
    ///     let items: Vec<u32> = (from..10).take(3).collect();
    ///     let next = (from + 3 < 10).then(|| format!("/from/{}", from + 3));
    ///     async move { Ok(RawPage::ready(items, next)) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), PagingError> {
    /// let mut pager = Pager::new(fetch);
    /// let first_four: Vec<u32> = (&mut pager).take(4).try_collect().await?;
    /// assert_eq!(first_four, [0, 1, 2, 3]);
    ///
    /// // Mid-page: resume at "/from/3", leaving out the one item already seen.
    /// let continuation = pager.continuation().expect("more to come");
    /// assert_eq!((continuation.next_link(), continuation.skip()), (Some("/from/3"), 1));
    /// drop(pager);
    ///
    /// let rest: Vec<u32> = Pager::resume(continuation, fetch).try_collect().await?;
    /// assert_eq!(rest, [4, 5, 6, 7, 8, 9]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume<F, Fut>(continuation: impl Into<Continuation>, fetch: F) -> Self
    where
        F: FnMut(PageRequest) -> Fut + Send + 'static,
        Fut: Future<Output = Result<RawPage<T>, E>> + Send + 'static,
    {
        Self {
            pages: Pages::new(continuation.into(), fetch),
            current: None,
        }
    }
}

impl<T, E> Pager<T, E> {
    /// Uses `options` to wait out `Loading` pages and to bound empty pages without progress.
    pub fn with_options(mut self, options: PagerOptions) -> Self {
        self.pages.set_options(options);
        self
    }

    /// The same walk, a page at a time.
    ///
    /// Items of the current page this pager has not handed out yet come first, as a page of
    /// their own.
    pub fn into_pages(mut self) -> Pages<T, E> {
        if let Some(current) = self.current.take()
            && current.items.len() > 0
        {
            self.pages.push_front(Page {
                items: current.items.collect(),
                next_link: current.next_link,
                request: current.request,
                skipped: current.consumed,
            });
        }
        self.pages
    }

    /// Where to resume to get every item this pager has not handed out yet; `None` when all
    /// were handed out.
    ///
    /// Mid-page, this is the current page's request with the number of its items already
    /// handed out, which a resumed pager leaves out. After an error, it is the request that
    /// failed.
    pub fn continuation(&self) -> Option<Continuation> {
        match &self.current {
            Some(current) if current.items.len() > 0 => {
                Some(Continuation::new(current.request.clone(), current.consumed))
            }
            _ => self.pages.continuation(),
        }
    }
}

impl<T, E> Stream for Pager<T, E>
where
    E: From<PagingError>,
{
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(current) = &mut this.current {
                if let Some(item) = current.items.next() {
                    current.consumed += 1;
                    return Poll::Ready(Some(Ok(item)));
                }
                // Free the page before fetching the next one.
                this.current = None;
            }
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => {
                    this.current = Some(CurrentPage {
                        items: page.items.into_iter(),
                        next_link: page.next_link,
                        request: page.request,
                        consumed: page.skipped,
                    });
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => return Poll::Ready(None),
            }
        }
    }
}

impl<T, E> FusedStream for Pager<T, E>
where
    E: From<PagingError>,
{
    fn is_terminated(&self) -> bool {
        self.current
            .as_ref()
            .is_none_or(|current| current.items.len() == 0)
            && self.pages.is_terminated()
    }
}

// No field is ever pinned in place.
impl<T, E> Unpin for Pager<T, E> {}

impl<T, E> fmt::Debug for Pager<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager")
            .field(
                "buffered",
                &self
                    .current
                    .as_ref()
                    .map_or(0, |current| current.items.len()),
            )
            .field("pages", &self.pages)
            .finish_non_exhaustive()
    }
}

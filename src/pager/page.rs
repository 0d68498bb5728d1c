//! The values a pager works with: [`PageRequest`], [`RawPage`], [`Page`] and [`Continuation`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which page a fetch function must get.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PageRequest {
    /// The first page: the list operation with its own parameters.
    First,
    /// A later page: `GET` this link. Ledger links are server-relative
    /// (`/app/transactions?...&api-version=...`) and carry every query parameter already.
    Next(String),
}

impl PageRequest {
    /// The link to follow, `None` for the first page.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::pager::PageRequest;
    ///
    /// assert_eq!(PageRequest::First.next_link(), None);
    /// assert_eq!(PageRequest::Next("/app/collections?x=1".into()).next_link(), Some("/app/collections?x=1"));
    /// ```
    pub fn next_link(&self) -> Option<&str> {
        match self {
            Self::First => None,
            Self::Next(link) => Some(link),
        }
    }
}

/// One response of a list operation, as a fetch function hands it to the pager.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::pager::RawPage;
///
/// let ready = RawPage::ready(vec![1, 2, 3], Some("/app/transactions?from=2.10".to_owned()));
/// assert!(!ready.loading);
/// let loading = RawPage::<u32>::loading(None).with_retry_after(Some(Duration::from_secs(1)));
/// assert!(loading.loading && loading.items.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPage<T> {
    /// The items of the page, in order.
    pub items: Vec<T>,
    /// The link to the next page; `None` on the last page.
    pub next_link: Option<String>,
    /// The service is still loading historical state (`"state": "Loading"`): ask again later.
    pub loading: bool,
    /// The `Retry-After` the service sent with the page, if any.
    pub retry_after: Option<Duration>,
}

impl<T> RawPage<T> {
    /// A page in state `Ready`.
    pub fn ready(items: Vec<T>, next_link: Option<String>) -> Self {
        Self {
            items,
            next_link,
            loading: false,
            retry_after: None,
        }
    }

    /// An empty page in state `Loading`.
    pub fn loading(next_link: Option<String>) -> Self {
        Self {
            items: Vec::new(),
            next_link,
            loading: true,
            retry_after: None,
        }
    }

    /// The same page with the service's `Retry-After`.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }
}

/// A page of items yielded by [`Pages`](crate::pager::Pages).
///
/// # Examples
///
/// ```
/// use confidential_ledger::pager::{PageRequest, Pager, RawPage};
/// use futures::TryStreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), confidential_ledger::pager::PagingError> {
/// let mut pages = Pager::new(|request: PageRequest| async move {
///     Ok(match request {
///         PageRequest::First => RawPage::ready(vec!["a", "b"], Some("/page/2".to_owned())),
///         PageRequest::Next(_) => RawPage::ready(vec!["c"], None),
///     })
/// })
/// .into_pages();
///
/// let first = pages.try_next().await?.expect("a first page");
/// assert_eq!(first.items(), ["a", "b"]);
/// assert_eq!(first.next_link(), Some("/page/2"));
/// let last = pages.try_next().await?.expect("a second page");
/// assert_eq!(last.request(), &PageRequest::Next("/page/2".to_owned()));
/// assert!(last.continuation().is_none());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next_link: Option<String>,
    pub(crate) request: PageRequest,
    /// Items of the service's page left out at the front (already seen before a resume).
    pub(crate) skipped: usize,
}

impl<T> Page<T> {
    /// The items of this page.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The items of this page, owned.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }

    /// The link to the next page, `None` on the last page.
    pub fn next_link(&self) -> Option<&str> {
        self.next_link.as_deref()
    }

    /// The request whose answer this page is.
    pub fn request(&self) -> &PageRequest {
        &self.request
    }

    /// Where to resume to get the pages after this one, `None` on the last page.
    pub fn continuation(&self) -> Option<Continuation> {
        self.next_link.clone().map(Continuation::from_link)
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Where a pager resumes: a page request, and how many items at the front of that page were
/// already yielded.
///
/// Obtained from [`Pager::continuation`](crate::pager::Pager::continuation),
/// [`Pages::continuation`](crate::pager::Pages::continuation) or
/// [`Page::continuation`], or built from a next link. It serializes (serde), so it can be kept
/// and used by another process.
///
/// # Examples
///
/// ```
/// use confidential_ledger::pager::{Continuation, PageRequest};
///
/// let from_link = Continuation::from("/app/transactions?fromTransactionId=2.300&api-version=2026-02-23");
/// assert_eq!(from_link.next_link(), Some("/app/transactions?fromTransactionId=2.300&api-version=2026-02-23"));
/// assert_eq!(from_link.skip(), 0);
/// assert_eq!(Continuation::first().request(), &PageRequest::First);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Continuation {
    request: PageRequest,
    skip: usize,
}

impl Continuation {
    /// The start of the list.
    pub fn first() -> Self {
        Self::new(PageRequest::First, 0)
    }

    /// The page at `link`, from its first item.
    pub fn from_link(link: impl Into<String>) -> Self {
        Self::new(PageRequest::Next(link.into()), 0)
    }

    /// The page `request` answers, leaving out its first `skip` items.
    pub fn new(request: PageRequest, skip: usize) -> Self {
        Self { request, skip }
    }

    /// The page to fetch.
    pub fn request(&self) -> &PageRequest {
        &self.request
    }

    /// The link to fetch, `None` for the first page.
    pub fn next_link(&self) -> Option<&str> {
        self.request.next_link()
    }

    /// How many items at the front of that page were already yielded and are left out.
    pub fn skip(&self) -> usize {
        self.skip
    }

    pub(crate) fn into_parts(self) -> (PageRequest, usize) {
        (self.request, self.skip)
    }
}

impl From<String> for Continuation {
    fn from(link: String) -> Self {
        Self::from_link(link)
    }
}

impl From<&str> for Continuation {
    fn from(link: &str) -> Self {
        Self::from_link(link)
    }
}

impl From<PageRequest> for Continuation {
    fn from(request: PageRequest) -> Self {
        Self::new(request, 0)
    }
}

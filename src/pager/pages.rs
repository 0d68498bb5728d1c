//! The page-level stream: [`Pages`] fetches, waits out `Loading`, follows links.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{FusedStream, Stream};
use tokio::time::{Instant, Sleep};

use super::error::PagingError;
use super::loop_detector::{LinkSet, LoopDetector};
use super::options::PagerOptions;
use super::page::{Continuation, Page, PageRequest, RawPage};
use crate::poller::Backoff;

type FetchFuture<T, E> = BoxFuture<'static, Result<RawPage<T>, E>>;
type FetchFn<T, E> = Box<dyn FnMut(PageRequest) -> FetchFuture<T, E> + Send>;

enum State<T, E> {
    /// Ready to fetch `Pages::next`.
    Idle,
    /// Waiting before fetching `Pages::next` again.
    Waiting(Pin<Box<Sleep>>),
    /// Fetching `Pages::next`.
    Fetching(FetchFuture<T, E>),
    /// The end, or an error: nothing more is fetched.
    Finished,
}

/// What to do with an answer.
enum Step<T> {
    Yield(Page<T>),
    Wait(Duration),
    Fail(PagingError),
}

/// Where a `Loading` wait stands.
struct LoadingWait {
    since: Instant,
    fetches: u32,
}

/// A stream of [`Page`]s, from [`Pager::into_pages`](crate::pager::Pager::into_pages).
///
/// Yields every `Ready` page (empty ones too, with their continuation), waits out `Loading`
/// pages without yielding them (unless they carry items), and ends after the page without a
/// next link. At most one page is fetched at a time, and only when the consumer asks for it.
/// After an error it yields nothing more; [`continuation`](Self::continuation) then points at
/// the request that failed.
#[must_use = "streams do nothing unless polled"]
pub struct Pages<T, E> {
    fetch: FetchFn<T, E>,
    options: PagerOptions,
    /// The request being made or to make next; `None` after the last page.
    next: Option<PageRequest>,
    /// Items still to leave out at the front (resuming mid-page).
    skip: usize,
    /// The rest of a page handed over by an item-level pager, yielded first.
    front: Option<Page<T>>,
    state: State<T, E>,
    backoff: Backoff,
    loading: Option<LoadingWait>,
    loops: LoopDetector,
    no_progress: u32,
    /// When the current run of no-progress retries began.
    stalled_since: Option<Instant>,
    /// Every link fetched with a `Ready` answer in this walk (bounded).
    fetched: LinkSet,
    /// A page with items linked back to this already-fetched link: the walk ends there.
    repeated: Option<String>,
}

impl<T, E> Pages<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    pub(crate) fn new<F, Fut>(start: Continuation, mut fetch: F) -> Self
    where
        F: FnMut(PageRequest) -> Fut + Send + 'static,
        Fut: Future<Output = Result<RawPage<T>, E>> + Send + 'static,
    {
        let options = PagerOptions::default();
        let (request, skip) = start.into_parts();
        Self {
            fetch: Box::new(move |request| fetch(request).boxed()),
            backoff: Backoff::new(options.polling.clone()),
            options,
            next: Some(request),
            skip,
            front: None,
            state: State::Idle,
            loading: None,
            loops: LoopDetector::new(),
            no_progress: 0,
            stalled_since: None,
            fetched: LinkSet::default(),
            repeated: None,
        }
    }
}

impl<T, E> Pages<T, E> {
    pub(crate) fn set_options(&mut self, options: PagerOptions) {
        self.backoff = Backoff::new(options.polling.clone());
        self.options = options;
    }

    pub(crate) fn push_front(&mut self, page: Page<T>) {
        self.front = Some(page);
    }

    /// Where to resume to get every page this stream has not yielded yet; `None` once the last
    /// page was yielded.
    ///
    /// After an error this is the request that failed.
    pub fn continuation(&self) -> Option<Continuation> {
        if let Some(front) = &self.front {
            return Some(Continuation::new(front.request.clone(), front.skipped));
        }
        self.next
            .clone()
            .map(|request| Continuation::new(request, self.skip))
    }

    /// Decides what an answer to `requested` means.
    fn on_page(&mut self, requested: PageRequest, raw: RawPage<T>) -> Step<T> {
        let RawPage {
            mut items,
            next_link,
            loading,
            retry_after,
        } = raw;
        // An empty link leads nowhere: treat it as the end.
        let next_link = next_link.filter(|link| !link.is_empty());

        let retry_after = retry_after.map(|wait| wait.min(self.options.max_retry_after));
        if loading {
            return self.on_loading(requested, items, next_link, retry_after);
        }
        self.loading = None;
        if let Some(link) = requested.next_link() {
            self.fetched.insert(link);
        }

        if items.is_empty() {
            if let Some(link) = &next_link
                && self.loops.revisits(&requested, link)
            {
                return self.on_no_progress(link.clone(), retry_after);
            }
        } else {
            // Items, and a link back to a page already fetched: following it would hand out
            // the same items again (and a page linking to itself, forever).
            // The items of this page are new: they are handed out, then the walk ends.
            if let Some(link) = &next_link
                && (requested.next_link() == Some(link.as_str()) || self.fetched.contains(link))
            {
                self.repeated = Some(link.clone());
            }
            self.loops.reset();
            self.no_progress = 0;
            self.stalled_since = None;
        }
        self.backoff.reset();

        let skipped = self.take_skip(&mut items);
        self.next = next_link.clone().map(PageRequest::Next);
        Step::Yield(Page {
            items,
            next_link,
            request: requested,
            skipped,
        })
    }

    fn on_loading(
        &mut self,
        requested: PageRequest,
        mut items: Vec<T>,
        next_link: Option<String>,
        retry_after: Option<Duration>,
    ) -> Step<T> {
        let now = Instant::now();
        let wait = self.loading.get_or_insert(LoadingWait {
            since: now,
            fetches: 0,
        });
        wait.fetches = wait.fetches.saturating_add(1);
        let waited = now.saturating_duration_since(wait.since);
        let fetches = wait.fetches;

        // Ask again: where the service points, or the same request.
        let again = next_link
            .clone()
            .map(PageRequest::Next)
            .unwrap_or_else(|| requested.clone());

        let mut delay = self.backoff.next_delay(retry_after);
        if let Some(timeout) = self.options.loading_timeout {
            if waited >= timeout {
                self.next = Some(again);
                return Step::Fail(PagingError::LoadingTimedOut { waited, fetches });
            }
            // The last fetch happens at the deadline, not after it.
            delay = delay.min(timeout - waited);
        }
        self.next = Some(again);
        tracing::debug!(fetches, waited = ?waited, next_fetch_in = ?delay, "page still loading");

        if items.is_empty() {
            return Step::Wait(delay);
        }
        // Items on a Loading page are unusual, but they are items: hand them out, then wait.
        self.loops.reset();
        self.no_progress = 0;
        self.stalled_since = None;
        self.state = State::Waiting(Box::pin(tokio::time::sleep(delay)));
        let skipped = self.take_skip(&mut items);
        Step::Yield(Page {
            items,
            next_link,
            request: requested,
            skipped,
        })
    }

    fn on_no_progress(&mut self, link: String, retry_after: Option<Duration>) -> Step<T> {
        let now = Instant::now();
        let waited = now.saturating_duration_since(*self.stalled_since.get_or_insert(now));
        let out_of_time = self
            .options
            .loading_timeout
            .is_some_and(|timeout| waited >= timeout);
        if self.no_progress >= self.options.no_progress_retries || out_of_time {
            let retries = self.no_progress;
            self.next = Some(PageRequest::Next(link.clone()));
            return Step::Fail(PagingError::NoProgress { link, retries });
        }
        self.no_progress += 1;
        let mut delay = self.backoff.next_delay(retry_after);
        if let Some(timeout) = self.options.loading_timeout {
            // The last retry happens at the deadline, not after it.
            delay = delay.min(timeout - waited);
        }
        tracing::debug!(
            link = %link,
            retry = self.no_progress,
            next_fetch_in = ?delay,
            "empty pages lead back to a fetched link; retrying"
        );
        self.next = Some(PageRequest::Next(link));
        Step::Wait(delay)
    }

    /// Leaves out the items a resumed pager has already yielded.
    fn take_skip(&mut self, items: &mut Vec<T>) -> usize {
        let skipped = self.skip.min(items.len());
        if skipped > 0 {
            items.drain(..skipped);
            self.skip -= skipped;
        }
        skipped
    }
}

impl<T, E> Stream for Pages<T, E>
where
    E: From<PagingError>,
{
    type Item = Result<Page<T>, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(front) = this.front.take() {
            return Poll::Ready(Some(Ok(front)));
        }
        loop {
            match &mut this.state {
                State::Finished => return Poll::Ready(None),
                State::Waiting(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    this.state = State::Idle;
                }
                State::Idle if this.repeated.is_some() => {
                    this.state = State::Finished;
                    let link = this.repeated.take().unwrap_or_default();
                    return Poll::Ready(Some(Err(PagingError::RepeatedLink { link }.into())));
                }
                State::Idle => match &this.next {
                    Some(request) => this.state = State::Fetching((this.fetch)(request.clone())),
                    None => this.state = State::Finished,
                },
                State::Fetching(fetch) => {
                    let answer = ready!(fetch.as_mut().poll(cx));
                    this.state = State::Idle;
                    let raw = match answer {
                        Ok(raw) => raw,
                        Err(error) => {
                            // `next` still names the request that failed.
                            this.state = State::Finished;
                            return Poll::Ready(Some(Err(error)));
                        }
                    };
                    let Some(requested) = this.next.take() else {
                        // Unreachable: a fetch is only started for `next`.
                        this.state = State::Finished;
                        return Poll::Ready(None);
                    };
                    match this.on_page(requested, raw) {
                        Step::Yield(page) => return Poll::Ready(Some(Ok(page))),
                        Step::Wait(delay) => {
                            this.state = State::Waiting(Box::pin(tokio::time::sleep(delay)));
                        }
                        Step::Fail(error) => {
                            this.state = State::Finished;
                            return Poll::Ready(Some(Err(error.into())));
                        }
                    }
                }
            }
        }
    }
}

impl<T, E> FusedStream for Pages<T, E>
where
    E: From<PagingError>,
{
    fn is_terminated(&self) -> bool {
        self.front.is_none() && matches!(self.state, State::Finished)
    }
}

// No field is ever pinned in place: futures and timers are boxed.
impl<T, E> Unpin for Pages<T, E> {}

impl<T, E> fmt::Debug for Pages<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::Waiting(_) => "waiting",
            State::Fetching(_) => "fetching",
            State::Finished => "finished",
        };
        f.debug_struct("Pages")
            .field("next", &self.next)
            .field("skip", &self.skip)
            .field("state", &state)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

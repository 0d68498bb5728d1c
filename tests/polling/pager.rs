//! The pager with fake list endpoints, in virtual time: following links, waiting out
//! `Loading`, empty pages, loops, resuming, laziness and flat memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use confidential_ledger::pager::{
    Continuation, PageRequest, Pager, PagerOptions, PagingError, RawPage,
};
use confidential_ledger::poller::PollingOptions;
use futures::{StreamExt, TryStreamExt};

use crate::support::{CallLog, DropFlag, FakeError, ms};

type Answer<T> = Result<RawPage<T>, FakeError>;

fn exact() -> PagerOptions {
    PagerOptions {
        polling: PollingOptions {
            jitter: 0.0,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A pager over a fake endpoint: `answer(request, n)` answers the `n`-th request (from 1).
fn pager<T, F>(mut answer: F) -> (CallLog<PageRequest>, Pager<T, FakeError>)
where
    T: Send + 'static,
    F: FnMut(&PageRequest, usize) -> Answer<T> + Send + 'static,
{
    let log = CallLog::new();
    let calls = log.clone();
    let pager = Pager::new(move |request: PageRequest| {
        let n = calls.record(request.clone());
        let answer = answer(&request, n);
        async move { answer }
    })
    .with_options(exact());
    (log, pager)
}

fn next(link: &str) -> PageRequest {
    PageRequest::Next(link.to_owned())
}

fn link(link: &str) -> Option<String> {
    Some(link.to_owned())
}

fn assert_gaps(log: &CallLog<PageRequest>, expected_ms: &[f64]) {
    let gaps = log.gaps();
    assert_eq!(gaps.len(), expected_ms.len(), "gaps {gaps:?}");
    for (gap, expected) in gaps.iter().zip(expected_ms) {
        assert!(
            gap.abs_diff(ms(*expected)) <= ms(1.0),
            "gaps {gaps:?}, expected {expected_ms:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn follows_next_links_until_a_page_has_none() {
    let (log, pager) = pager(|request, _| {
        Ok(match request.next_link() {
            None => RawPage::ready(vec![1, 2], link("/l?p=2")),
            Some("/l?p=2") => RawPage::ready(vec![3], link("/l?p=3")),
            Some(_) => RawPage::ready(vec![4, 5], None),
        })
    });
    let items: Vec<u32> = pager.try_collect().await.unwrap();
    assert_eq!(items, [1, 2, 3, 4, 5]);
    assert_eq!(
        log.requests(),
        [PageRequest::First, next("/l?p=2"), next("/l?p=3")]
    );
    assert_eq!(
        log.times(),
        [Duration::ZERO; 3],
        "no waiting between ready pages"
    );
}

#[tokio::test(start_paused = true)]
async fn a_loading_first_page_is_waited_out_with_growing_delays() {
    // As recorded: the first page of a historical range is `Loading`, with a next link to the
    // same query, until it is `Ready`.
    let query = "/app/transactions?api-version=2024-08-22-preview&collectionId=0&fromTransactionId=8.6058&toTransactionId=8.6064";
    let (log, pager) = pager(move |_, n| {
        Ok(if n < 5 {
            RawPage::loading(link(query))
        } else {
            RawPage::ready(vec!["8.6058", "8.6064"], None)
        })
    });
    let items: Vec<&str> = pager.try_collect().await.unwrap();
    assert_eq!(items, ["8.6058", "8.6064"]);
    assert_eq!(
        log.requests(),
        [
            PageRequest::First,
            next(query),
            next(query),
            next(query),
            next(query)
        ]
    );
    assert_gaps(&log, &[25.0, 37.5, 56.25, 84.375]);
}

#[tokio::test(start_paused = true)]
async fn a_page_that_stays_loading_is_never_busy_polled_and_times_out() {
    let (log, pager) = pager(|_, _| Ok(RawPage::<u32>::loading(link("/same"))));
    let pager = pager.with_options(PagerOptions {
        loading_timeout: Some(Duration::from_secs(30)),
        ..exact()
    });
    let mut pager = pager;
    let start = tokio::time::Instant::now();
    let error = pager.next().await.unwrap().unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(30));

    // 11 fetches in the first 2.9 s, one a second after that, a last one at the deadline.
    let fetches = log.count();
    assert_eq!(fetches, 11 + 27 + 1);
    assert_eq!(
        error,
        FakeError::Paging(PagingError::LoadingTimedOut {
            waited: Duration::from_secs(30),
            fetches: fetches as u32,
        })
    );
    let gaps = log.gaps();
    assert!(
        gaps.iter()
            .all(|gap| *gap >= ms(25.0) && *gap <= ms(1000.0))
    );
    assert!(
        gaps[..gaps.len() - 1].windows(2).all(|w| w[0] <= w[1]),
        "{gaps:?}"
    );

    // The stream ended; it can be resumed where it stopped.
    assert!(pager.next().await.is_none());
    assert_eq!(log.count(), fetches);
    assert_eq!(pager.continuation(), Some(Continuation::from_link("/same")));
}

#[tokio::test(start_paused = true)]
async fn without_a_loading_timeout_the_wait_goes_on_at_one_fetch_a_second() {
    let (log, pager) = pager(|_, n| {
        Ok(if n <= 500 {
            RawPage::loading(None)
        } else {
            RawPage::ready(vec![n], None)
        })
    });
    let pager = pager.with_options(PagerOptions {
        loading_timeout: None,
        ..exact()
    });
    let items: Vec<usize> = pager.try_collect().await.unwrap();
    assert_eq!(items, [501]);
    let gaps = log.gaps();
    assert_eq!(gaps.len(), 500);
    assert!(gaps[10..].iter().all(|gap| *gap == Duration::from_secs(1)));
    // Without a next link, the same request is repeated.
    assert!(
        log.requests()
            .iter()
            .all(|request| *request == PageRequest::First)
    );
}

#[tokio::test(start_paused = true)]
async fn loading_honours_retry_after_but_not_below_the_schedule() {
    let (log, pager) = pager(|_, n| {
        Ok(match n {
            1 => RawPage::loading(link("/q")).with_retry_after(Some(Duration::from_secs(2))),
            2 => RawPage::loading(link("/q")).with_retry_after(Some(Duration::ZERO)),
            _ => RawPage::ready(vec![()], None),
        })
    });
    assert_eq!(pager.try_collect::<Vec<()>>().await.unwrap().len(), 1);
    assert_gaps(&log, &[2000.0, 37.5]);
}

#[tokio::test(start_paused = true)]
async fn the_backoff_starts_over_after_a_ready_page() {
    let (log, pager) = pager(|request, n| {
        Ok(match (request.next_link(), n) {
            (None, 1..=3) => RawPage::loading(None),
            (None, _) => RawPage::ready(vec![1], link("/second")),
            (Some(_), 5 | 6) => RawPage::loading(link("/second")),
            (Some(_), _) => RawPage::ready(vec![2], None),
        })
    });
    let items: Vec<u32> = pager.try_collect().await.unwrap();
    assert_eq!(items, [1, 2]);
    assert_gaps(&log, &[25.0, 37.5, 56.25, 0.0, 25.0, 37.5]);
}

#[tokio::test(start_paused = true)]
async fn the_loading_timeout_counts_per_page() {
    // Page n is ready 20 s after the previous one; the timeout is 30 s: the whole walk takes
    // 60 s, yet no page loads for longer than 20 s.
    let start = tokio::time::Instant::now();
    let log = CallLog::new();
    let calls = log.clone();
    let pager = Pager::new(move |request: PageRequest| {
        calls.record(request.clone());
        let page: u32 = request
            .next_link()
            .and_then(|link| link.strip_prefix('/')?.parse().ok())
            .unwrap_or(0);
        // Page n is ready 20 s after 20 * n s.
        let ready = start.elapsed() >= Duration::from_secs(20 * u64::from(page));
        let answer = if ready {
            RawPage::ready(vec![page], (page < 3).then(|| format!("/{}", page + 1)))
        } else {
            RawPage::loading(Some(format!("/{page}")))
        };
        async move { Ok::<_, FakeError>(answer) }
    })
    .with_options(PagerOptions {
        loading_timeout: Some(Duration::from_secs(30)),
        ..exact()
    });
    let items: Vec<u32> = pager.try_collect().await.unwrap();
    assert_eq!(items, [0, 1, 2, 3]);
    assert!(start.elapsed() >= Duration::from_secs(60));
    assert!(start.elapsed() < Duration::from_secs(62));
    assert!(log.count() > 40);
}

#[tokio::test(start_paused = true)]
async fn empty_ready_pages_that_move_on_are_followed_at_once() {
    // A sparse range: 1000 empty pages, each pointing further, then the items.
    let (log, pager) = pager(|request, _| {
        let at: u32 = request
            .next_link()
            .and_then(|link| link.strip_prefix("/from/")?.parse().ok())
            .unwrap_or(0);
        Ok(if at < 100_000 {
            RawPage::ready(Vec::new(), Some(format!("/from/{}", at + 100)))
        } else {
            RawPage::ready(vec![at], None)
        })
    });
    let pages: Vec<_> = pager.into_pages().try_collect().await.unwrap();
    assert_eq!(pages.len(), 1001, "empty pages are yielded as pages");
    assert!(pages[..1000].iter().all(|page| page.items().is_empty()));
    assert_eq!(pages[1000].items(), [100_000]);
    assert_eq!(log.count(), 1001);
    assert_eq!(log.times().last(), Some(&Duration::ZERO), "no waiting");
}

#[tokio::test(start_paused = true)]
async fn an_empty_page_linking_to_itself_is_retried_a_few_times_then_fails() {
    let (log, pager) = pager(|_, _| Ok(RawPage::<u32>::ready(Vec::new(), link("/stuck"))));
    let mut pages = pager.into_pages();
    // The first answer moves on (First -> /stuck): a page.
    let first = pages.next().await.unwrap().unwrap();
    assert_eq!(first.next_link(), Some("/stuck"));
    // Then /stuck -> /stuck: three retries with growing delays, then the error.
    let error = pages.next().await.unwrap().unwrap_err();
    assert_eq!(
        error,
        FakeError::Paging(PagingError::NoProgress {
            link: "/stuck".into(),
            retries: 3
        })
    );
    assert_eq!(log.count(), 5);
    assert_gaps(&log, &[0.0, 25.0, 37.5, 56.25]);
    assert!(pages.next().await.is_none());
    assert_eq!(log.count(), 5);
    assert_eq!(
        pages.continuation(),
        Some(Continuation::from_link("/stuck"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_self_link_that_recovers_goes_on() {
    let (_log, pager) = pager(|_, n| {
        Ok(match n {
            1..=3 => RawPage::ready(Vec::new(), link("/lagging")),
            _ => RawPage::ready(vec![n], None),
        })
    });
    let items: Vec<usize> = pager.try_collect().await.unwrap();
    assert_eq!(items, [4]);
}

#[tokio::test(start_paused = true)]
async fn a_circle_of_empty_pages_fails_in_bounded_time() {
    // /0 -> /1 -> ... -> /6 -> /0 -> ...
    let (log, pager) = pager(|request, _| {
        let at: u32 = request
            .next_link()
            .and_then(|link| link.strip_prefix('/')?.parse().ok())
            .unwrap_or(0);
        Ok(RawPage::<u32>::ready(
            Vec::new(),
            Some(format!("/{}", (at + 1) % 7)),
        ))
    });
    let result: Result<Vec<u32>, _> = pager.try_collect().await;
    assert!(matches!(
        result,
        Err(FakeError::Paging(PagingError::NoProgress {
            retries: 3,
            ..
        }))
    ));
    assert!(log.count() < 100, "{} fetches", log.count());
}

#[tokio::test(start_paused = true)]
async fn items_reset_the_no_progress_count() {
    // Every round of empty pages circles twice, then items move on to a fresh link: each
    // round makes progress, so the pager goes on; stop after 20 items.
    let (_log, pager) = pager(|request, n| {
        let round = request
            .next_link()
            .and_then(|link| link.strip_prefix("/r")?.split('/').next()?.parse().ok())
            .unwrap_or(0usize);
        Ok(if n % 3 == 0 {
            RawPage::ready(vec![n], Some(format!("/r{}/", round + 1)))
        } else {
            RawPage::ready(Vec::new(), Some(format!("/r{round}/")))
        })
    });
    let items: Vec<usize> = pager.take(20).try_collect().await.unwrap();
    assert_eq!(items.len(), 20);
}

#[tokio::test(start_paused = true)]
async fn a_page_with_items_linking_back_ends_the_list_instead_of_repeating_it() {
    // /a -> /a (empty) twice, then items with a link back to /a: following it would hand the
    // same items out again, forever.
    let (log, pager) = pager(|_, n| {
        Ok(if n % 3 == 0 {
            RawPage::ready(vec![n], link("/a"))
        } else {
            RawPage::ready(Vec::new(), link("/a"))
        })
    });
    let mut pager = pager;
    assert_eq!(pager.next().await, Some(Ok(3)));
    assert_eq!(
        pager.next().await,
        Some(Err(FakeError::Paging(PagingError::RepeatedLink {
            link: "/a".into()
        })))
    );
    assert_eq!(pager.next().await, None);
    assert_eq!(log.count(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_fetch_error_is_yielded_and_ends_the_stream() {
    let (log, pager) = pager(|request, _| match request.next_link() {
        None => Ok(RawPage::ready(vec![1, 2], link("/2"))),
        Some(_) => Err(FakeError::status(500)),
    });
    let mut pager = pager;
    assert_eq!(pager.next().await, Some(Ok(1)));
    assert_eq!(pager.next().await, Some(Ok(2)));
    assert_eq!(pager.next().await, Some(Err(FakeError::status(500))));
    assert_eq!(pager.next().await, None);
    assert_eq!(log.count(), 2, "no retry loop after an error");
    assert_eq!(pager.continuation(), Some(Continuation::from_link("/2")));
}

/// Pages of three numbers up to 10: `/from/0` -> 0, 1, 2 and `/from/3`, ...
fn numbers(request: &PageRequest, _: usize) -> Answer<u32> {
    let from: u32 = request
        .next_link()
        .and_then(|link| link.strip_prefix("/from/")?.parse().ok())
        .unwrap_or(0);
    let items: Vec<u32> = (from..10).take(3).collect();
    let next = (from + 3 < 10).then(|| format!("/from/{}", from + 3));
    Ok(RawPage::ready(items, next))
}

#[tokio::test(start_paused = true)]
async fn continuations_resume_exactly_where_the_pager_stopped() {
    for consumed in 0..=10 {
        let (_log, mut pager) = pager(numbers);
        let head: Vec<u32> = (&mut pager).take(consumed).try_collect().await.unwrap();
        let continuation = pager.continuation();
        drop(pager);

        let Some(continuation) = continuation else {
            assert_eq!(consumed, 10, "only the end has no continuation");
            continue;
        };
        // It survives serialization.
        let json = serde_json::to_string(&continuation).unwrap();
        let continuation: Continuation = serde_json::from_str(&json).unwrap();

        let tail: Vec<u32> = Pager::resume(continuation, |request: PageRequest| {
            let answer = numbers(&request, 0);
            async move { answer }
        })
        .try_collect()
        .await
        .unwrap();
        let mut all = head;
        all.extend(tail);
        assert_eq!(all, (0..10).collect::<Vec<_>>(), "after {consumed} items");
    }
}

#[tokio::test(start_paused = true)]
async fn the_continuation_points_at_the_current_page_then_the_next() {
    let (_log, mut pager) = pager(numbers);
    assert_eq!(pager.continuation(), Some(Continuation::first()));
    pager.next().await;
    assert_eq!(
        pager.continuation(),
        Some(Continuation::new(PageRequest::First, 1))
    );
    pager.next().await;
    pager.next().await;
    // The page is used up: the next page, from its start.
    assert_eq!(
        pager.continuation(),
        Some(Continuation::from_link("/from/3"))
    );
    let rest: Vec<u32> = (&mut pager).try_collect().await.unwrap();
    assert_eq!(rest.len(), 7);
    assert_eq!(pager.continuation(), None);
}

#[tokio::test(start_paused = true)]
async fn a_resumed_page_still_loading_skips_only_once_it_is_ready() {
    let log = CallLog::new();
    let calls = log.clone();
    let resumed = Pager::resume(
        Continuation::new(next("/from/3"), 2),
        move |request: PageRequest| {
            let n = calls.record(request.clone());
            let answer = if n <= 2 {
                Ok(RawPage::loading(Some("/from/3".to_owned())))
            } else {
                numbers(&request, n)
            };
            async move { answer }
        },
    );
    let items: Vec<u32> = resumed.try_collect().await.unwrap();
    assert_eq!(items, [5, 6, 7, 8, 9]);
    assert_eq!(log.count(), 5);
}

#[tokio::test(start_paused = true)]
async fn pages_carry_their_items_and_continuations() {
    let (_log, pager) = pager(numbers);
    let pages: Vec<_> = pager.into_pages().try_collect().await.unwrap();
    let sizes: Vec<usize> = pages.iter().map(|page| page.items().len()).collect();
    assert_eq!(sizes, [3, 3, 3, 1]);
    assert_eq!(pages[0].request(), &PageRequest::First);
    assert_eq!(
        pages[0].continuation(),
        Some(Continuation::from_link("/from/3"))
    );
    assert_eq!(pages[2].next_link(), Some("/from/9"));
    assert_eq!(pages[3].continuation(), None);
    let items: Vec<u32> = pages.into_iter().flatten().collect();
    assert_eq!(items, (0..10).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn into_pages_keeps_the_items_not_yet_handed_out() {
    let (log, mut pager) = pager(numbers);
    assert_eq!(pager.next().await, Some(Ok(0)));
    let mut pages = pager.into_pages();
    assert_eq!(
        pages.continuation(),
        Some(Continuation::new(PageRequest::First, 1))
    );
    let rest = pages.next().await.unwrap().unwrap();
    assert_eq!(rest.items(), [1, 2]);
    assert_eq!(rest.next_link(), Some("/from/3"));
    assert_eq!(log.count(), 1, "the rest of the page came from memory");
    assert_eq!(pages.next().await.unwrap().unwrap().items(), [3, 4, 5]);
}

#[tokio::test(start_paused = true)]
async fn a_loading_page_with_items_hands_them_out_then_waits() {
    let (log, pager) = pager(|_, n| {
        Ok(match n {
            1 => RawPage {
                items: vec![1],
                next_link: link("/again"),
                loading: true,
                retry_after: None,
            },
            _ => RawPage::ready(vec![2], None),
        })
    });
    let items: Vec<u32> = pager.try_collect().await.unwrap();
    assert_eq!(items, [1, 2]);
    assert_gaps(&log, &[25.0]);
}

#[tokio::test(start_paused = true)]
async fn the_pager_is_lazy_and_fetches_one_page_at_a_time() {
    let (log, mut pager) = pager(numbers);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(log.count(), 0, "nothing before the first item is asked for");
    for expected in 0..3 {
        assert_eq!(pager.next().await, Some(Ok(expected)));
        assert_eq!(log.count(), 1);
    }
    assert_eq!(pager.next().await, Some(Ok(3)));
    assert_eq!(log.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_pager_while_it_waits_stops_everything() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let flag = dropped.clone();
    let log = CallLog::new();
    let calls = log.clone();
    let pager = Pager::new(move |request: PageRequest| {
        calls.record(request);
        let guard = DropFlag(flag.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(guard);
            Ok::<_, FakeError>(RawPage::<u32>::loading(None))
        }
    })
    .with_options(exact());
    let mut pager = pager;
    let outcome = tokio::time::timeout(Duration::from_millis(100), pager.next()).await;
    assert!(outcome.is_err());
    let fetches = log.count();
    drop(pager);
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(log.count(), fetches);
    assert_eq!(dropped.load(Ordering::SeqCst), fetches);
}

/// An item that counts how many of its kind are alive, and the most ever alive at once.
struct Counted {
    value: u64,
    live: Arc<Live>,
}

#[derive(Default)]
struct Live {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Counted {
    fn new(value: u64, live: &Arc<Live>) -> Self {
        let now = live.now.fetch_add(1, Ordering::Relaxed) + 1;
        live.most.fetch_max(now, Ordering::Relaxed);
        Self {
            value,
            live: live.clone(),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.live.now.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A million items in pages of a thousand, made only when fetched.
fn million(live: Arc<Live>) -> impl FnMut(&PageRequest, usize) -> Answer<Counted> + Send {
    move |request, _| {
        let page: u64 = request
            .next_link()
            .and_then(|link| link.strip_prefix("/page/")?.parse().ok())
            .unwrap_or(0);
        let items = (page * 1000..(page + 1) * 1000)
            .map(|value| Counted::new(value, &live))
            .collect();
        let next = (page < 999).then(|| format!("/page/{}", page + 1));
        Ok(RawPage::ready(items, next))
    }
}

#[tokio::test(start_paused = true)]
async fn memory_stays_flat_over_a_million_items() {
    let live = Arc::new(Live::default());
    let (log, mut items) = pager(million(live.clone()));
    let (mut count, mut sum) = (0u64, 0u64);
    while let Some(item) = items.next().await {
        let item = item.unwrap();
        count += 1;
        sum += item.value;
    }
    assert_eq!(count, 1_000_000);
    assert_eq!(sum, (0..1_000_000u64).sum::<u64>());
    assert_eq!(log.count(), 1000);
    assert_eq!(
        live.most.load(Ordering::Relaxed),
        1000,
        "never more than one page alive"
    );
    assert_eq!(live.now.load(Ordering::Relaxed), 0);

    // Page by page: the same bound.
    let live = Arc::new(Live::default());
    let (_log, pager) = pager(million(live.clone()));
    let mut pages = pager.into_pages();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        count += page.unwrap().items().len();
    }
    assert_eq!(count, 1_000_000);
    assert_eq!(live.most.load(Ordering::Relaxed), 1000);
}

#[test]
fn pagers_are_send() {
    fn send<T: Send>() {}
    send::<Pager<String, FakeError>>();
    send::<confidential_ledger::pager::Pages<String, FakeError>>();
}

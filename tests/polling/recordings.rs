//! Real list responses recorded against live ledgers, replayed through `decode_page` and the
//! pager: the requests it makes must be the ones the official clients made, and the items the
//! ones the ledger sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use confidential_ledger::pager::{PageRequest, Pager, RawPage, decode_page};
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::Value;

use crate::support::FakeError;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    contents: String,
    collection_id: Option<String>,
    transaction_id: String,
}

/// One recorded `GET` of a list: the path and query asked, the body answered.
#[derive(Debug, Clone)]
struct Exchange {
    path_and_query: String,
    body: Vec<u8>,
}

fn path_and_query(uri: &str) -> String {
    let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or_else(String::new, |slash| after_scheme[slash..].to_owned())
}

fn load(relative: &str) -> Option<Value> {
    let path = testkit::shared::path(relative)?;
    let text = std::fs::read_to_string(&path).expect("a readable recording");
    Some(serde_json::from_str(&text).expect("a JSON recording"))
}

type Asked = Arc<Mutex<Vec<PageRequest>>>;
type Fetched = futures::future::Ready<Result<RawPage<Entry>, FakeError>>;

/// A fetch function that answers from `exchanges` in order, checking that each later request
/// asks exactly for the link the recorded client followed.
fn replay(
    exchanges: Vec<Exchange>,
) -> (Asked, impl FnMut(PageRequest) -> Fetched + Send + 'static) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let mut exchanges = VecDeque::from(exchanges);
    let fetch = move |request: PageRequest| {
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request.clone());
        let exchange = exchanges
            .pop_front()
            .expect("no request beyond the recording");
        if let Some(link) = request.next_link() {
            assert_eq!(
                link, exchange.path_and_query,
                "the link the recorded client followed"
            );
        }
        let page =
            decode_page::<Entry>(&exchange.body, "entries").expect("a recorded page decodes");
        futures::future::ready(Ok(page))
    };
    (asked, fetch)
}

#[tokio::test(start_paused = true)]
async fn python_range_queries_wait_out_loading_and_yield_the_entries() {
    let Some(recording) = load(
        "recordings/python/test_confidential_ledger_client.pyTestConfidentialLedgerClienttest_range_query_aad_user.json",
    ) else {
        return;
    };
    let entries = recording["Entries"].as_array().expect("Entries");
    let queries: Vec<Exchange> = entries
        .iter()
        .filter(|e| {
            e["RequestMethod"] == "GET"
                && e["RequestUri"]
                    .as_str()
                    .is_some_and(|uri| uri.contains("/app/transactions?"))
        })
        .map(|e| Exchange {
            path_and_query: path_and_query(e["RequestUri"].as_str().unwrap_or_default()),
            body: serde_json::to_vec(&e["ResponseBody"]).expect("re-encodes"),
        })
        .collect();
    assert_eq!(
        queries.len(),
        10,
        "five range queries, each Loading then Ready"
    );

    for pair in queries.chunks(2) {
        let (asked, fetch) = replay(pair.to_vec());
        let items: Vec<Entry> = Pager::new(fetch).try_collect().await.unwrap();

        // The Loading page pointed at the same query, which the pager asked again.
        assert_eq!(
            *asked.lock().unwrap_or_else(PoisonError::into_inner),
            [
                PageRequest::First,
                PageRequest::Next(pair[0].path_and_query.clone())
            ]
        );
        let ready: Value = serde_json::from_slice(&pair[1].body).unwrap();
        let expected: Vec<Entry> = serde_json::from_value(ready["entries"].clone()).unwrap();
        assert_eq!(items, expected);
        assert_eq!(items.len(), 2);
        let collection = pair[0]
            .path_and_query
            .split('&')
            .find_map(|p| p.strip_prefix("collectionId="))
            .unwrap()
            .to_owned();
        assert!(
            items
                .iter()
                .all(|entry| entry.collection_id.as_deref() == Some(&collection))
        );
        assert!(
            items
                .iter()
                .all(|entry| entry.contents.starts_with("message-"))
        );
    }
}

#[tokio::test(start_paused = true)]
async fn java_pages_with_the_old_at_next_link_are_followed() {
    let Some(recording) =
        load("recordings/java/ConfidentialLedgerBaseClientTests.getLedgerEntries.json")
    else {
        return;
    };
    let calls = recording["networkCallRecords"]
        .as_array()
        .expect("networkCallRecords");
    let exchanges: Vec<Exchange> = calls
        .iter()
        .map(|call| Exchange {
            path_and_query: path_and_query(call["Uri"].as_str().unwrap_or_default()),
            body: call["Response"]["Body"]
                .as_str()
                .unwrap_or_default()
                .as_bytes()
                .to_vec(),
        })
        .collect();
    assert_eq!(exchanges.len(), 2);

    let (asked, fetch) = replay(exchanges.clone());
    let mut pages = Pager::new(fetch).into_pages();
    let first = pages.try_next().await.unwrap().unwrap();
    assert_eq!(first.items().len(), 4);
    assert_eq!(first.items()[0].transaction_id, "2.22");
    assert_eq!(
        first.next_link(),
        Some(exchanges[1].path_and_query.as_str())
    );

    // An empty Ready page that moves on (fromTransactionId=2.102 -> 2.203): followed.
    let second = pages.try_next().await.unwrap().unwrap();
    assert!(second.items().is_empty());
    assert_eq!(
        second.next_link(),
        Some(
            "/app/transactions?api-version=0.1-preview&subLedgerId=subledger:0&fromTransactionId=2.203"
        )
    );
    assert_eq!(
        asked.lock().unwrap_or_else(PoisonError::into_inner).len(),
        2
    );
}

//! A hostile ledger (see [`Hostile`]) against the whole client: every call ends, memory stays
//! bounded, and the answers it gets are reported right.
//!
//! | area | what is proved |
//! |---|---|
//! | bounded memory | a huge entry or status (streamed, no `Content-Length`) and a page with a huge `Content-Length` are refused with `ResponseTooLarge` naming the limit, a write whose huge answer follows its transaction id returns that id, and the server sees the client stop reading |
//! | cut bodies | a write answered `200` with a transaction id whose body is then cut keeps that id in its error; a cut read is retried |
//! | deadlines | a server that accepts and never answers, or a credential that never returns, ends the call at its `call_timeout` |
//! | pager | a self-linking page with a year's `Retry-After`, a page linking to itself with items, and a cycle of links all end with an error |
//! | credential cache | a refresh that never returns does not hold up calls while the cached token is valid, and ends in a timeout once it is not |
//! | polling | `wait_for_commit` waits as long as `Retry-After` asks (capped) |
//! | right answers | an identity answer for another ledger id is refused; transaction ids `0.0`, `2.0`, `0.5` are refused as write results |

use std::time::Duration;

use confidential_ledger::{ClientOptions, ErrorKind, TransactionId};

use crate::hostile::{Answer, Body, Hostile};
use crate::support::within_for;

const MIB: u64 = 1024 * 1024;

/// Options with quick retries and no surprises from the environment.
fn options() -> ClientOptions {
    let mut options = ClientOptions::default();
    options.retry.initial_delay = Duration::from_millis(5);
    options.retry.max_delay = Duration::from_millis(20);
    options.proxy = confidential_ledger::options::ProxyOptions::Disabled;
    options
}

/// A bound for each test's steps: far above what the client needs, far below a hang.
const STEP: Duration = Duration::from_secs(30);

/// A ledger answering every request `200` with the transaction id `id`, then 96 MiB chunked
/// (no `Content-Length`: only counting can stop it).
async fn endless_answers(id: &'static str) -> Hostile {
    Hostile::start(move |_, _| {
        Answer::with_body(
            200,
            Body::Stream {
                total: 96 * MIB,
                declared: None,
            },
        )
        .header("x-ms-ccf-transaction-id", id)
    })
    .await
}

#[tokio::test]
async fn an_entry_past_the_default_limit_is_refused_while_it_streams() {
    let server = endless_answers("2.7").await;
    let client = server.client(options()).await;
    let err = within_for(STEP, client.get_ledger_entry("2.5", None))
        .await
        .expect_err("a 96 MiB entry is refused");
    assert_eq!(
        err.kind(),
        &ErrorKind::ResponseTooLarge {
            limit: "entry_bytes",
            max_bytes: 8 * MIB
        },
        "{err}"
    );
    assert!(err.is_response_too_large());
    assert!(
        err.to_string().contains("response_limits.entry_bytes"),
        "{err}"
    );
    assert_eq!(err.transaction_id(), Some(TransactionId::new(2, 7)));
    assert_eq!(
        server.requests().len(),
        1,
        "a refused answer is not asked again"
    );
    // The client stopped reading: the server could not write much beyond the limit (socket
    // buffers on both sides take a few MiB at most).
    let written = server.body_bytes_after(1).await;
    println!("entry: the server wrote {written} of {} bytes", 96 * MIB);
    assert!(written < 8 * MIB + 16 * MIB, "{written} bytes were written");
}

#[tokio::test]
async fn a_huge_status_and_a_huge_write_answer_are_refused_while_they_stream() {
    // The status read and the write are built and decoded by the client itself
    // (`fast_calls`): the same limits hold for them, by operation.
    let server = endless_answers("2.9").await;
    let client = server.client(options()).await;
    let err = within_for(STEP, client.get_transaction_status("2.9", None))
        .await
        .expect_err("a 96 MiB status is refused");
    assert_eq!(
        err.kind(),
        &ErrorKind::ResponseTooLarge {
            limit: "other_bytes",
            max_bytes: 16 * MIB
        },
        "{err}"
    );
    let written = server.body_bytes_after(1).await;
    assert!(
        written < 16 * MIB + 16 * MIB,
        "{written} bytes were written"
    );
    // A write whose answer runs past its limit after the transaction id arrived was applied:
    // the client stops reading and returns that id (not sent again, not an error).
    let result = within_for(STEP, client.create_ledger_entry("huge answer", None))
        .await
        .expect("the write's id arrived before its body overflowed");
    assert_eq!(result.transaction_id, TransactionId::new(2, 9));
    // The count is of both answers' bodies.
    let sent = server.body_bytes_after(2).await - written;
    assert!(sent < 8 * MIB + 16 * MIB, "{sent} bytes were written");
    assert_eq!(server.requests().len(), 2, "neither is asked again");
}

#[tokio::test]
async fn a_page_declaring_a_length_past_its_limit_is_refused_before_its_body() {
    let server = Hostile::start(|_, _| {
        Answer::with_body(
            200,
            Body::Stream {
                total: 1024 * MIB,
                declared: Some(1024 * MIB),
            },
        )
    })
    .await;
    let mut options = options();
    options.response_limits.page_bytes = 64 * 1024;
    let client = server.client(options).await;
    let mut pager = client.list_ledger_entries(None);
    let err = within_for(STEP, futures::TryStreamExt::try_next(&mut pager))
        .await
        .expect_err("a 1 GiB page is refused");
    assert_eq!(
        err.kind(),
        &ErrorKind::ResponseTooLarge {
            limit: "page_bytes",
            max_bytes: 64 * 1024
        },
        "{err}"
    );
    assert!(
        err.to_string().contains("Content-Length is 1073741824"),
        "{err}"
    );
    let written = server.body_bytes_after(1).await;
    println!("page: the server wrote {written} of {} bytes", 1024 * MIB);
    assert!(written < 16 * MIB, "{written} bytes were written");
}

#[tokio::test]
async fn a_write_whose_body_is_cut_keeps_its_transaction_id() {
    let server = Hostile::start(|seen, _| {
        assert_eq!(seen.method, "POST");
        Answer::with_body(
            200,
            Body::Cut {
                declared: 200,
                sent: 10,
            },
        )
        .header("x-ms-ccf-transaction-id", "7.42")
    })
    .await;
    let client = server.client(options()).await;
    // The ledger accepted the write and said its id before the body was cut: the write is
    // reported as written, with that id, in the request's (here the default) collection.
    let written = within_for(STEP, client.create_ledger_entry("cut", None))
        .await
        .expect("a 200 whose transaction id arrived is a written entry");
    assert_eq!(written.transaction_id, TransactionId::new(7, 42));
    assert_eq!(written.collection_id, "subledger:0");
    assert_eq!(server.requests().len(), 1, "the write is never sent twice");
}

#[tokio::test]
async fn a_read_whose_body_is_cut_is_retried() {
    let entry = r#"{"state":"Ready","entry":{"contents":"whole","collectionId":"subledger:0","transactionId":"2.5"}}"#;
    let server = Hostile::start(move |_, n| {
        if n == 0 {
            Answer::with_body(
                200,
                Body::Cut {
                    declared: 400,
                    sent: 30,
                },
            )
        } else {
            Answer::json(200, entry)
        }
    })
    .await;
    let client = server.client(options()).await;
    let read = within_for(STEP, client.get_ledger_entry("2.5", None))
        .await
        .expect("the second answer is whole");
    assert_eq!(read.contents, "whole");
    assert_eq!(server.requests().len(), 2);
}

const CONSTITUTION: &str = r#"{"digest":"00","script":"export function validate() {}"}"#;

#[tokio::test]
async fn a_server_that_never_answers_ends_each_call_at_its_deadline() {
    let server = Hostile::start(|_, _| Answer::Hang).await;
    // The default per-attempt timeout (60 s) and retries would hold a call for minutes.
    let mut options = options();
    options.call_timeout = Some(Duration::from_secs(2));
    let client = server.client(options).await;

    let err = within_for(STEP, client.get_constitution(None))
        .await
        .expect_err("nothing ever answers");
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("deadline"), "{err}");

    // A write that was sent and timed out may have been applied.
    let err = within_for(STEP, client.create_ledger_entry("never answered", None))
        .await
        .expect_err("nothing ever answers");
    assert!(err.is_outcome_unknown(), "{err}");
    let cause = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<confidential_ledger::Error>())
        .expect("the timeout is the cause");
    assert!(cause.is_timeout(), "{cause}");

    // A call's own deadline wins over the client's (here: none at all).
    let mut unbounded = options_without_call_timeout();
    unbounded.request_timeout = None;
    let client = server.client(unbounded).await;
    let call = confidential_ledger::client::GetConstitutionOptions::new()
        .call_timeout(Duration::from_secs(1));
    let err = within_for(STEP, client.get_constitution(Some(call)))
        .await
        .expect_err("nothing ever answers");
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn a_retry_wait_past_the_deadline_returns_the_failure_instead_of_waiting() {
    // 30 s is within the honoured Retry-After (60 s), but not within the call's 2 s.
    let server = Hostile::start(|_, _| {
        Answer::json(
            503,
            r#"{"error":{"code":"ServiceUnavailable","message":"busy"}}"#,
        )
        .header("retry-after", "30")
    })
    .await;
    let mut options = options();
    options.call_timeout = Some(Duration::from_secs(2));
    let client = server.client(options).await;
    let err = within_for(STEP, client.get_constitution(None))
        .await
        .expect_err("the ledger stays busy");
    assert_eq!(
        err.status(),
        Some(reqwest::StatusCode::SERVICE_UNAVAILABLE),
        "{err}"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(
        server.requests().len(),
        1,
        "no retry the deadline cannot wait for"
    );
}

fn options_without_call_timeout() -> ClientOptions {
    let mut options = options();
    options.call_timeout = None;
    options
}

/// Answers its first token request with a token valid for `lifetime`; every later request
/// never returns. Counts the requests.
#[derive(Debug)]
struct HangsAfterFirst {
    lifetime: Duration,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[confidential_ledger::credential::async_trait]
impl confidential_ledger::TokenCredential for HangsAfterFirst {
    async fn get_token(
        &self,
        _: &[&str],
    ) -> Result<confidential_ledger::AccessToken, confidential_ledger::CredentialError> {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            return Ok(confidential_ledger::AccessToken::new(
                "first-token",
                std::time::SystemTime::now() + self.lifetime,
            ));
        }
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_credential_whose_refresh_hangs_serves_the_valid_token_then_times_out() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = Hostile::start(|_, _| Answer::json(200, CONSTITUTION)).await;
    let lifetime = Duration::from_secs(6);
    let asked = std::sync::Arc::new(AtomicUsize::new(0));
    // Refreshed half-way through the token's lifetime (3 s), in the background.
    let credential = confidential_ledger::CachedTokenCredential::new(HangsAfterFirst {
        lifetime,
        calls: std::sync::Arc::clone(&asked),
    });
    let mut options = options();
    options.call_timeout = Some(Duration::from_secs(2));
    let client = server
        .builder(options)
        .credential(credential)
        .build()
        .await
        .expect("a client");
    within_for(STEP, client.get_constitution(None))
        .await
        .expect("the first token works");
    // The token was issued before this instant: it is due for a refresh 3.2 s later, and has
    // expired 6.5 s later.
    let first = tokio::time::Instant::now();
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    // Past the refresh time, before expiry: the refresh hangs, calls go on with the token.
    tokio::time::sleep_until(first + Duration::from_millis(3200)).await;
    for _ in 0..3 {
        within_for(STEP, client.get_constitution(None))
            .await
            .expect("the still-valid token is served while the refresh hangs");
    }
    assert_eq!(asked.load(Ordering::SeqCst), 2, "one refresh, in flight");
    let sent = server.requests();
    assert_eq!(sent.len(), 4);
    assert!(
        sent.iter()
            .all(|r| r.header("authorization") == Some("Bearer first-token"))
    );
    // Expired: the call waits for the hanging refresh, and its deadline ends it.
    tokio::time::sleep_until(first + lifetime + Duration::from_millis(500)).await;
    let err = within_for(STEP, client.get_constitution(None))
        .await
        .expect_err("no valid token any more");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        server.requests().len(),
        4,
        "nothing is sent without a token"
    );
    assert_eq!(asked.load(Ordering::SeqCst), 2, "still the one refresh");
}

/// A `Ready` page of `list_ledger_entries` with `entries` (contents) and a next link.
fn page(entries: &[&str], next: &str) -> String {
    let entries: Vec<String> = entries
        .iter()
        .map(|c| {
            format!(
                r#"{{"contents":"{c}","collectionId":"subledger:0","transactionId":"2.{}"}}"#,
                c.len() + 1
            )
        })
        .collect();
    format!(
        r#"{{"state":"Ready","entries":[{}],"nextLink":"{next}"}}"#,
        entries.join(",")
    )
}

/// Drains `pager` (at most `limit` items), returning the items and the error that ended it.
async fn drain(
    mut pager: confidential_ledger::Pager<
        confidential_ledger::models::LedgerEntry,
        confidential_ledger::Error,
    >,
    limit: usize,
) -> (Vec<String>, Option<confidential_ledger::Error>) {
    let mut items = Vec::new();
    while items.len() < limit {
        match futures::StreamExt::next(&mut pager).await {
            Some(Ok(entry)) => items.push(entry.contents),
            Some(Err(err)) => return (items, Some(err)),
            None => return (items, None),
        }
    }
    (items, None)
}

#[tokio::test]
async fn an_empty_self_linking_page_asking_to_wait_a_year_ends_at_the_wait_timeout() {
    const SELF: &str = "/app/transactions?api-version=2026-02-23&fromTransactionId=2.1";
    let server = Hostile::start(|_, _| {
        Answer::json(200, &page(&[], SELF)).header("retry-after", "999999999")
    })
    .await;
    let mut options = options();
    options.wait_timeout = Some(Duration::from_secs(2));
    let client = server.client(options).await;
    let (items, err) = within_for(STEP, drain(client.list_ledger_entries(None), 10)).await;
    assert!(items.is_empty());
    let err = err.expect("the pager gives up");
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("no progress"), "{err}");
    assert!(
        server.requests().len() <= 6,
        "{} requests",
        server.requests().len()
    );
}

#[tokio::test]
async fn a_page_linking_to_itself_with_items_ends_after_its_items() {
    const SELF: &str = "/app/transactions?api-version=2026-02-23&fromTransactionId=2.1";
    let server = Hostile::start(|_, _| Answer::json(200, &page(&["a", "b"], SELF))).await;
    let client = server.client(options()).await;
    let (items, err) = within_for(STEP, drain(client.list_ledger_entries(None), 1000)).await;
    let err = err.expect("the circle ends the list");
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
    assert!(err.to_string().contains("round in a circle"), "{err}");
    let paging = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<confidential_ledger::pager::PagingError>());
    assert!(
        matches!(
            paging,
            Some(confidential_ledger::pager::PagingError::RepeatedLink { .. })
        ),
        "{err:?}"
    );
    // The first page (the operation itself) and its link once; no item twice.
    assert_eq!(items, ["a", "b", "a", "b"]);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_circle_of_pages_with_items_ends_when_a_link_comes_back() {
    const A: &str = "/app/transactions?api-version=2026-02-23&page=a";
    const B: &str = "/app/transactions?api-version=2026-02-23&page=b";
    let server = Hostile::start(|seen, _| {
        if seen.path.contains("page=a") {
            Answer::json(200, &page(&["from-a"], B))
        } else if seen.path.contains("page=b") {
            Answer::json(200, &page(&["from-b"], A))
        } else {
            Answer::json(200, &page(&["first"], A))
        }
    })
    .await;
    let client = server.client(options()).await;
    let (items, err) = within_for(STEP, drain(client.list_ledger_entries(None), 1000)).await;
    let err = err.expect("the circle ends the list");
    assert!(err.to_string().contains(A), "{err}");
    assert_eq!(items, ["first", "from-a", "from-b"]);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn wait_for_commit_waits_as_long_as_retry_after_asks() {
    let server = Hostile::start(|_, _| {
        Answer::json(200, r#"{"state":"Pending","transactionId":"2.5"}"#).header("retry-after", "2")
    })
    .await;
    let client = server.client(options()).await;
    let wait =
        confidential_ledger::client::WaitForCommitOptions::new().timeout(Duration::from_secs(3));
    let err = within_for(STEP, client.wait_for_commit("2.5", Some(wait)))
        .await
        .expect_err("never committed");
    assert!(err.is_timeout(), "{err}");
    // Polls at 0 s and 2 s; the next would be at 4 s, after the 3 s timeout. Without
    // Retry-After the default schedule (25 ms growing to 1 s) polls about ten times in 3 s.
    let polls = server.requests().len();
    assert!((1..=3).contains(&polls), "{polls} polls");
}

#[tokio::test]
async fn an_identity_answer_for_another_ledger_is_refused() {
    let ca = Hostile::start(|_, _| Answer::Hang).await;
    let pem = ca.ca_pem().replace('\n', "\\n");
    let body = format!(r#"{{"ledgerId":"someone-else","ledgerTlsCertificate":"{pem}"}}"#);
    let identity = Hostile::start_plain(move |_, _| Answer::json(200, &body)).await;

    let lookup =
        confidential_ledger::IdentityServiceClient::new(identity.plain_endpoint(), Some(options()))
            .expect("an identity client");
    let err = within_for(STEP, lookup.get_ledger_identity("mine", None))
        .await
        .expect_err("an answer about another ledger");
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
    assert!(err.to_string().contains("someone-else"), "{err}");

    let err = within_for(
        STEP,
        confidential_ledger::ConfidentialLedgerClient::builder(
            "https://mine.confidential-ledger.azure.com",
        )
        .identity_endpoint(identity.plain_endpoint())
        .credential(confidential_ledger::StaticTokenCredential::new("token"))
        .options(options())
        .build(),
    )
    .await
    .expect_err("nothing is pinned");
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
}

#[tokio::test]
async fn a_huge_identity_answer_is_refused() {
    let identity = Hostile::start_plain(|_, _| {
        Answer::with_body(
            200,
            Body::Stream {
                total: 64 * MIB,
                declared: None,
            },
        )
    })
    .await;
    let lookup =
        confidential_ledger::IdentityServiceClient::new(identity.plain_endpoint(), Some(options()))
            .expect("an identity client");
    let err = within_for(STEP, lookup.get_ledger_identity("mine", None))
        .await
        .expect_err("64 MiB is no certificate");
    assert_eq!(
        err.kind(),
        &ErrorKind::ResponseTooLarge {
            limit: "identity_bytes",
            max_bytes: 256 * 1024
        },
        "{err}"
    );
    let written = identity.body_bytes_after(1).await;
    assert!(written < 16 * MIB, "{written} bytes were written");
}

#[tokio::test]
async fn transaction_ids_with_a_zero_are_refused_as_write_results() {
    for id in ["0.0", "2.0", "0.5"] {
        let server = Hostile::start(move |_, _| {
            Answer::json(200, r#"{"collectionId":"subledger:0"}"#)
                .header("x-ms-ccf-transaction-id", id)
        })
        .await;
        let client = server.client(options()).await;
        let err = within_for(STEP, client.create_ledger_entry("zero", None))
            .await
            .expect_err(id);
        assert!(
            matches!(err.kind(), ErrorKind::Decode { .. }),
            "{id}: {err}"
        );
        assert!(
            err.to_string().contains("x-ms-ccf-transaction-id"),
            "{id}: {err}"
        );
    }
    // A read may still be about such a state: only write results are checked.
    let server =
        Hostile::start(|_, _| Answer::json(200, r#"{"state":"Pending","transactionId":"2.0"}"#))
            .await;
    let client = server.client(options()).await;
    let status = within_for(STEP, client.get_transaction_status("2.1", None))
        .await
        .expect("a status");
    assert_eq!(status.transaction_id, TransactionId::new(2, 0));
}

//! Retries: transient statuses, backoff schedule, Retry-After, and writes never applied twice.

use std::time::Duration;

use confidential_ledger::ErrorKind;
use confidential_ledger::pipeline::RetryOptions;
use reqwest::StatusCode;
use testkit::http::{Reply, Server};

use crate::support::{Harness, closed_port, options};

const OK: &str = r#"{"state":"Ready"}"#;

#[tokio::test]
async fn get_is_retried_after_each_transient_status() {
    for status in [408, 429, 500, 502, 503, 504] {
        let server = Server::scripted([Reply::status(status), Reply::json(200, OK)]).await;
        let harness = Harness::new(&server.url(""), options(3));
        let response = harness
            .get(&server.url("/app/transactions/2.5"))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "after {status}");
        assert_eq!(response.text().await.unwrap(), OK);
        assert_eq!(server.request_count(), 2, "after {status}");
        assert_eq!(
            harness.timer.sleeps(),
            [Duration::from_millis(100)],
            "after {status}"
        );
    }
}

#[tokio::test]
async fn backoff_doubles_up_to_the_cap_and_stops_after_max_retries() {
    let server = Server::start(|_| Reply::ledger_error(503, "ServiceUnavailable", "busy")).await;
    let harness = Harness::new(&server.url(""), options(5));
    let err = harness
        .get(&server.url("/app/transactions"))
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 6, "one attempt and five retries");
    let millis: Vec<u128> = harness
        .timer
        .sleeps()
        .iter()
        .map(Duration::as_millis)
        .collect();
    assert_eq!(millis, [100, 200, 400, 800, 1000]);
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.error_code(), Some("ServiceUnavailable"));
    assert!(err.is_retryable());
    assert_eq!(err.operation(), Some("get_ledger_entry"));
}

#[tokio::test]
async fn non_transient_answers_are_not_retried() {
    for status in [400, 401, 403, 404, 409] {
        let server = Server::scripted([Reply::status(status), Reply::json(200, OK)]).await;
        let harness = Harness::new(&server.url(""), options(3));
        let err = harness.get(&server.url("/app/x")).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.request_count(), 1, "{status}");
        assert!(harness.timer.sleeps().is_empty());
    }
}

#[tokio::test]
async fn retry_after_seconds_is_honoured_exactly() {
    let server = Server::scripted([
        Reply::status(429).header("retry-after", "7"),
        Reply::json(200, OK),
    ])
    .await;
    let harness = Harness::new(&server.url(""), options(3));
    harness.get(&server.url("/app/x")).await.unwrap();
    assert_eq!(harness.timer.sleeps(), [Duration::from_secs(7)]);
}

#[tokio::test]
async fn retry_after_http_date_is_measured_from_the_timer_clock() {
    // RecordingTimer::NOW is 2024-01-01 00:00:00 UTC.
    let server = Server::scripted([
        Reply::status(503).header("retry-after", "Mon, 01 Jan 2024 00:00:12 GMT"),
        Reply::status(503).header("retry-after", "Sun, 31 Dec 2023 23:00:00 GMT"),
        Reply::json(200, OK),
    ])
    .await;
    let harness = Harness::new(&server.url(""), options(3));
    harness.get(&server.url("/app/x")).await.unwrap();
    assert_eq!(
        harness.timer.sleeps(),
        [Duration::from_secs(12), Duration::ZERO],
        "a date in the past means no wait"
    );
}

#[tokio::test]
async fn millisecond_retry_headers_are_honoured() {
    let server = Server::scripted([
        Reply::status(429)
            .header("retry-after", "10")
            .header("retry-after-ms", "250"),
        Reply::status(503).header("x-ms-retry-after-ms", "1500"),
        Reply::json(200, OK),
    ])
    .await;
    let harness = Harness::new(&server.url(""), options(3));
    harness.get(&server.url("/app/x")).await.unwrap();
    assert_eq!(
        harness.timer.sleeps(),
        [Duration::from_millis(250), Duration::from_millis(1500)]
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_ends_the_retries() {
    let server = Server::scripted([
        Reply::ledger_error(429, "TooManyRequests", "slow down").header("retry-after", "3600"),
        Reply::json(200, OK),
    ])
    .await;
    let harness = Harness::new(&server.url(""), options(3));
    let err = harness.get(&server.url("/app/x")).await.unwrap_err();
    assert_eq!(server.request_count(), 1);
    assert!(harness.timer.sleeps().is_empty());
    assert_eq!(
        err.kind(),
        &ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
    assert!(err.to_string().contains("retry after 3600s"), "{err}");
}

#[tokio::test]
async fn retries_can_be_switched_off() {
    let server = Server::scripted([Reply::status(503), Reply::json(200, OK)]).await;
    let mut off = options(0);
    off.retry = RetryOptions::disabled();
    let harness = Harness::new(&server.url(""), off);
    let err = harness.get(&server.url("/app/x")).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(server.request_count(), 1);
    // A write that got a 500 is still an unknown outcome, retries or not.
    let server = Server::scripted([Reply::status(500)]).await;
    let mut off = options(0);
    off.retry = RetryOptions::disabled();
    let harness = Harness::new(&server.url(""), off);
    let err = harness
        .post(&server.url("/app/transactions"), "{}")
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
}

#[tokio::test]
async fn post_answered_429_or_503_is_an_unknown_outcome_and_never_sent_again() {
    for (reply, status, after) in [
        (
            Reply::status(429).header("retry-after", "2"),
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(2)),
        ),
        (
            Reply::ledger_error(503, "StorageUnavailable", "disk full"),
            StatusCode::SERVICE_UNAVAILABLE,
            None,
        ),
    ] {
        let server = Server::scripted([
            reply,
            Reply::json(200, r#"{"collectionId":"subledger:0"}"#)
                .header("x-ms-ccf-transaction-id", "2.15"),
        ])
        .await;
        let harness = Harness::new(&server.url(""), options(3));
        let err = harness
            .post(&server.url("/app/transactions"), r#"{"contents":"hello"}"#)
            .await
            .unwrap_err();
        assert!(err.is_outcome_unknown(), "{status}: {err}");
        assert_eq!(err.status(), Some(status), "the cause's status is kept");
        assert_eq!(
            err.retry_after(),
            after,
            "{status}: the Retry-After is kept"
        );
        assert_eq!(server.request_count(), 1, "{status}: sent once");
        assert!(harness.timer.sleeps().is_empty());
    }
}

#[tokio::test]
async fn post_is_retried_when_the_connection_cannot_be_made() {
    let port = closed_port();
    let harness = Harness::new(&format!("http://127.0.0.1:{port}"), options(2));
    let err = harness
        .post(&format!("http://127.0.0.1:{port}/app/transactions"), "{}")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Transport, "{err}");
    assert!(err.is_connect());
    assert!(!err.is_outcome_unknown());
    assert!(err.to_string().contains("cannot connect to"), "{err}");
    assert_eq!(
        harness.timer.sleeps(),
        [Duration::from_millis(100), Duration::from_millis(200)],
        "two retries"
    );
}

#[tokio::test]
async fn post_is_not_retried_after_a_500() {
    let server = Server::scripted([
        Reply::ledger_error(500, "InternalError", "boom").header("x-ms-ccf-transaction-id", "4.99"),
        Reply::json(200, "{}"),
    ])
    .await;
    let harness = Harness::new(&server.url(""), options(3));
    let err = harness
        .post(&server.url("/app/transactions"), r#"{"contents":"x"}"#)
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 1, "the write was sent exactly once");
    assert_eq!(err.kind(), &ErrorKind::OutcomeUnknown);
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(
        err.transaction_id().map(|t| t.to_string()).as_deref(),
        Some("4.99")
    );
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.starts_with(
            "create_ledger_entry: the outcome is unknown: the ledger answered HTTP 500"
        ),
        "{text}"
    );
    assert!(text.contains("Check by reading"), "{text}");
    let cause = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<confidential_ledger::Error>())
        .expect("the cause is kept");
    assert_eq!(cause.error_code(), Some("InternalError"));
    assert!(harness.timer.sleeps().is_empty());
}

#[tokio::test]
async fn post_is_not_retried_after_the_connection_drops() {
    let server = Server::scripted([Reply::CloseConnection, Reply::json(200, "{}")]).await;
    let harness = Harness::new(&server.url(""), options(3));
    let err = harness
        .post(&server.url("/app/transactions"), r#"{"contents":"x"}"#)
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 1, "the write was sent exactly once");
    assert_eq!(err.kind(), &ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(err.status(), None);
    assert!(
        err.to_string()
            .contains("the connection failed after the request was sent"),
        "{err}"
    );
}

#[tokio::test]
async fn post_is_not_retried_after_a_timeout_but_get_is() {
    let timeout = || super::support::http().timeout(Duration::from_millis(300));
    let server = Server::scripted([Reply::Hang, Reply::json(200, "{}")]).await;
    let harness = Harness::with_http(&server.url(""), options(3), timeout());
    let err = harness
        .post(&server.url("/app/transactions"), "{}")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::OutcomeUnknown, "{err}");
    assert!(
        err.to_string().contains("timed out after it was sent"),
        "{err}"
    );
    assert_eq!(server.request_count(), 1);
    let cause = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<confidential_ledger::Error>())
        .unwrap();
    assert!(cause.is_timeout());

    let server = Server::scripted([Reply::Hang, Reply::json(200, OK)]).await;
    let harness = Harness::with_http(&server.url(""), options(3), timeout());
    let response = harness.get(&server.url("/app/x")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn get_is_retried_after_the_connection_drops() {
    let server = Server::scripted([Reply::CloseConnection, Reply::json(200, OK)]).await;
    let harness = Harness::new(&server.url(""), options(3));
    harness.get(&server.url("/app/x")).await.unwrap();
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn a_streamed_body_is_sent_once_and_never_again() {
    use confidential_ledger::pipeline::OperationContext;
    let chunks = || {
        futures::stream::iter(
            ["{\"contents\":", "\"streamed\"}"].map(|c| Ok::<_, std::io::Error>(c.to_owned())),
        )
    };
    let server = Server::scripted([Reply::status(503), Reply::json(200, "{}")]).await;
    let harness = Harness::new(&server.url(""), options(3));
    let mut request =
        reqwest::Request::new(reqwest::Method::PUT, server.url("/app/x").parse().unwrap());
    *request.body_mut() = Some(reqwest::Body::wrap_stream(chunks()));
    let err = crate::support::within(
        harness
            .pipeline
            .send(request, &OperationContext::new("put")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(server.request_count(), 1, "a stream cannot be replayed");
    assert_eq!(
        server.requests()[0].body_text(),
        r#"{"contents":"streamed"}"#
    );

    let server = Server::scripted([Reply::status(307).header("location", "/elsewhere")]).await;
    let harness = Harness::new(&server.url(""), options(3));
    let mut request =
        reqwest::Request::new(reqwest::Method::PUT, server.url("/app/x").parse().unwrap());
    *request.body_mut() = Some(reqwest::Body::wrap_stream(chunks()));
    let err = crate::support::within(
        harness
            .pipeline
            .send(request, &OperationContext::new("put")),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("cannot be sent again"), "{err}");
    assert_eq!(server.request_count(), 1);
}

//! Every error kind, produced end to end through the pipeline from real-looking answers and
//! failures.

use std::time::Duration;

use confidential_ledger::ErrorKind;
use confidential_ledger::pipeline::RetryOptions;
use reqwest::StatusCode;
use testkit::http::{Reply, Server};

use crate::support::{
    Harness, LEDGER, closed_port, http, http_with, ledger_pki, options, server_config,
};

fn no_retries() -> confidential_ledger::pipeline::PipelineOptions {
    let mut options = options(0);
    options.retry = RetryOptions::disabled();
    options
}

/// Answers as the ledger does (error bodies from the service's documented codes).
#[tokio::test]
async fn ledger_answers_map_to_their_kinds() {
    let cases: Vec<(Reply, ErrorKind, Option<&str>)> = vec![
        (
            Reply::ledger_error(404, "UnknownLedgerEntry", "No ledger entry found for 2.99"),
            ErrorKind::NotFound,
            Some("UnknownLedgerEntry"),
        ),
        (
            Reply::ledger_error(
                404,
                "InvalidTransactionId",
                "Transaction ID 2.99 is invalid",
            ),
            ErrorKind::NotFound,
            Some("InvalidTransactionId"),
        ),
        (
            Reply::ledger_error(401, "InvalidAuthenticationInfo", "Token expired"),
            ErrorKind::Unauthorized,
            Some("InvalidAuthenticationInfo"),
        ),
        (
            Reply::ledger_error(409, "Conflict", "The user already exists"),
            ErrorKind::Conflict,
            Some("Conflict"),
        ),
        (
            Reply::ledger_error(429, "TooManyRequests", "Rate limit").header("retry-after", "2"),
            ErrorKind::Throttled {
                retry_after: Some(Duration::from_secs(2)),
            },
            Some("TooManyRequests"),
        ),
        (
            Reply::ledger_error(400, "InvalidQueryParameterValue", "tag is invalid"),
            ErrorKind::Service {
                status: StatusCode::BAD_REQUEST,
                code: Some("InvalidQueryParameterValue".into()),
                message: Some("tag is invalid".into()),
            },
            Some("InvalidQueryParameterValue"),
        ),
        (
            Reply::ledger_error(406, "TransactionPendingOrUnknown", "pending"),
            ErrorKind::Service {
                status: StatusCode::NOT_ACCEPTABLE,
                code: Some("TransactionPendingOrUnknown".into()),
                message: Some("pending".into()),
            },
            Some("TransactionPendingOrUnknown"),
        ),
        (
            // Not an ambiguous 503: the write was rolled back, not applied.
            Reply::ledger_error(503, "TransactionRolledBack", "rolled back"),
            ErrorKind::TransactionRolledBack,
            Some("TransactionRolledBack"),
        ),
    ];
    for (reply, kind, code) in cases {
        let server = Server::scripted([reply.header("x-ms-ccf-transaction-id", "3.7")]).await;
        let harness = Harness::new(&server.url(""), no_retries());
        let err = harness
            .get(&server.url("/app/transactions/2.99"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &kind, "{err}");
        assert_eq!(err.error_code(), code);
        assert_eq!(
            err.transaction_id().map(|t| t.to_string()).as_deref(),
            Some("3.7")
        );
        assert!(err.service_message().is_some());
        assert!(err.to_string().starts_with("get_ledger_entry: "), "{err}");
    }
}

#[tokio::test]
async fn garbage_answers_are_service_errors_with_an_excerpt() {
    let html = format!(
        "<html><head><title>502 Bad Gateway</title></head>{}</html>",
        "x".repeat(2000)
    );
    let cases = [
        Reply::body(502, html.clone()),
        Reply::status(504),
        Reply::json(500, r#"{"error": "#),
        Reply::body(500, vec![0xff, 0x00, 0xfe, 0x01]),
        Reply::json(500, r#"{"unexpected": true}"#),
    ];
    for reply in cases {
        let server = Server::scripted([reply]).await;
        let harness = Harness::new(&server.url(""), no_retries());
        let err = harness.get(&server.url("/app/x")).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Service { code: None, .. }),
            "{err}"
        );
        assert!(err.is_retryable());
        assert!(err.to_string().len() < 500, "bounded: {err}");
    }
    let server = Server::scripted([Reply::body(502, html)]).await;
    let harness = Harness::new(&server.url(""), no_retries());
    let err = harness.get(&server.url("/app/x")).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("unexpected body \"<html><head><title>502 Bad Gateway"),
        "{err}"
    );
}

#[tokio::test]
async fn transport_failures_have_their_kinds() {
    let port = closed_port();
    let harness = Harness::new(&format!("http://127.0.0.1:{port}"), no_retries());
    let err = harness
        .get(&format!("http://127.0.0.1:{port}/app/x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Transport);
    assert!(err.is_connect() && err.is_retryable());
    assert_eq!(err.status(), None);

    let server = Server::scripted([Reply::Hang]).await;
    let harness = Harness::with_http(
        &server.url(""),
        no_retries(),
        http().timeout(Duration::from_millis(200)),
    );
    let err = harness.get(&server.url("/app/x")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Timeout, "{err}");
    assert!(err.is_timeout() && err.is_retryable());
}

#[tokio::test]
async fn tls_failures_have_their_kinds_and_are_not_retried() {
    use confidential_ledger::tls::{PinnedCertificate, client_config};

    // The server's certificate chains to another service certificate: a stale pin.
    let (pinned_ca, _, _) = ledger_pki();
    let (_, node, key) = ledger_pki();
    let server = Server::start_tls(server_config(node, key), |_| Reply::json(200, "{}")).await;
    let pinned = PinnedCertificate::from_der(pinned_ca).unwrap();
    let harness = Harness::with_http(
        &server.url_for_host(LEDGER, ""),
        options(3),
        http_with(client_config(&pinned, None).unwrap()),
    );
    let err = harness
        .get(&server.url_for_host(LEDGER, "/app/x"))
        .await
        .unwrap_err();
    let mismatch = err.pin_mismatch().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(mismatch.pinned_fingerprint(), pinned.fingerprint());
    assert!(
        err.to_string()
            .contains("pinned service certificate mismatch"),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert!(harness.timer.sleeps().is_empty(), "not retried");
    assert_eq!(server.request_count(), 0);

    // Speaking TLS to a plain HTTP server.
    let plain = Server::start(|_| Reply::json(200, "{}")).await;
    let endpoint = format!("https://{LEDGER}:{}", plain.port());
    let harness = Harness::with_http(
        &endpoint,
        options(3),
        http_with(client_config(&pinned, None).unwrap()),
    );
    let err = harness.get(&format!("{endpoint}/app/x")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Tls, "{err}");
    assert!(
        err.to_string()
            .starts_with("get_ledger_entry: TLS with the ledger failed"),
        "{err}"
    );
    assert!(harness.timer.sleeps().is_empty(), "not retried");
}

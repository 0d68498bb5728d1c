//! Tracing output of the pipeline, captured at DEBUG with bodies enabled, scanned for secrets.
//!
//! A test binary of its own, with a single test, so that no other test's tracing interferes
//! with the captured subscriber.

#[allow(dead_code)]
#[path = "pipeline/support.rs"]
mod support;

use std::sync::{Arc, OnceLock};

use confidential_ledger::pipeline::OperationContext;
use testkit::capture::Capture;
use testkit::http::{RecordedRequest, Reply, Server};

use support::{Harness, LEDGER, PRIMARY, TOKEN, options, post, within};

/// The ledger (503 echoing the caller's token, then a redirect to the primary) and the
/// primary, which answers with a cookie and a token-like header.
async fn ledger() -> Server {
    let port: Arc<OnceLock<u16>> = Arc::default();
    let handler_port = Arc::clone(&port);
    let ledger_calls = std::sync::atomic::AtomicUsize::new(0);
    let server = Server::start(move |request: &RecordedRequest| {
        let port = handler_port.get().copied().unwrap_or_default();
        match (request.host.as_deref(), request.path.as_str()) {
            (Some(LEDGER), "/app/users/me") => {
                Reply::ledger_error(403, "NotAllowed", "Could not find user.")
            }
            (Some(LEDGER), _) => {
                if ledger_calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    // A misbehaving gateway that echoes the request's credentials.
                    let echoed = request.header("authorization").unwrap_or_default();
                    Reply::body(503, format!("upstream busy; you sent: {echoed}"))
                        .header("x-echo", echoed)
                } else {
                    Reply::status(307).header(
                        "location",
                        &format!("http://{PRIMARY}:{port}{}", request.path),
                    )
                }
            }
            _ => Reply::json(
                200,
                r#"{"collectionId":"subledger:0","note":"response-body-marker"}"#,
            )
            .header("x-ms-ccf-transaction-id", "2.15")
            .header("set-cookie", "session=cookie-secret-value")
            .header("x-ms-access-token", "header-secret-value"),
        }
    })
    .await;
    port.set(server.port()).unwrap();
    server
}

#[tokio::test]
async fn debug_logs_show_operations_and_bodies_but_never_a_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = ledger().await;
    let mut logged = options(3);
    logged.logging_enable = true;
    let harness = Harness::new(&server.url_for_host(LEDGER, ""), logged);
    let write = server.url_for_host(LEDGER, "/app/transactions?api-version=2026-02-23");
    // Declared idempotent, so that the 503 is retried (a write is not) and the retry logged.
    let request = post(&write, r#"{"contents":"request-body-marker"}"#);
    let op = confidential_ledger::raw::operation_context("create_ledger_entry", &request)
        .non_idempotent(false)
        .with_client_request_id("call-1");
    within(harness.pipeline.send(request, &op)).await.unwrap();
    let err = harness
        .get(&server.url_for_host(LEDGER, "/app/users/me"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NotAllowed"));
    let output = capture.take();

    // What should be there.
    for expected in [
        "ledger_operation{operation_id=create_ledger_entry method=POST client_request_id=call-1}:\
         ledger_attempt{attempt=1}: confidential_ledger::pipeline: request",
        "ledger_operation{operation_id=create_ledger_entry method=POST client_request_id=call-1}:\
         ledger_attempt{attempt=2}: confidential_ledger::pipeline: following redirect",
        "ledger_operation{operation_id=create_ledger_entry method=POST client_request_id=call-1 \
         transaction_id=2.15}: confidential_ledger::pipeline: operation succeeded status=200 \
         attempts=2",
        "x-ms-client-request-id: call-1",
        "request-body-marker",
        "response-body-marker",
        "retrying",
        "following redirect",
        "authorization: REDACTED",
        "set-cookie: REDACTED",
        "x-ms-access-token: REDACTED",
        "x-echo: REDACTED",
        "user-agent: confidential-ledger-rust/",
        "upstream busy; you sent: Bearer [redacted]",
        "operation_id=get_ledger_entry",
        "Could not find user.",
    ] {
        assert!(
            output.contains(expected),
            "missing {expected:?} in:\n{output}"
        );
    }
    // What must never be.
    let signature = TOKEN.rsplit('.').next().unwrap();
    for secret in [
        TOKEN,
        signature,
        "cookie-secret-value",
        "header-secret-value",
    ] {
        assert!(
            !output.contains(secret),
            "{secret:?} leaked into:\n{output}"
        );
    }
    // The server did see the token (so the test would notice if it were logged).
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str()))
    );

    // Bodies stay out unless asked for, per pipeline or per call.
    let quiet = Harness::new(&server.url_for_host(PRIMARY, ""), options(0));
    let url = server.url_for_host(PRIMARY, "/app/transactions");
    quiet
        .post(&url, r#"{"contents":"quiet-marker"}"#)
        .await
        .unwrap();
    let output = capture.take();
    assert!(output.contains("request"), "{output}");
    assert!(!output.contains("quiet-marker"), "{output}");
    assert!(!output.contains("response-body-marker"), "{output}");
    let op = OperationContext::new("create_ledger_entry").logging_enable(true);
    within(
        quiet
            .pipeline
            .send(post(&url, r#"{"contents":"loud-marker"}"#), &op),
    )
    .await
    .unwrap();
    let output = capture.take();
    assert!(output.contains("loud-marker"), "{output}");
    assert!(output.contains("response-body-marker"), "{output}");
    assert!(!output.contains(TOKEN));
}

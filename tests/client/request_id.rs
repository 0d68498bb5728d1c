//! `x-ms-client-request-id` through the client: a caller's id reaches the error of its call
//! (and so was sent), a fresh one otherwise, and it is on the call's span.

use confidential_ledger::ErrorKind;
use confidential_ledger::client::{
    CallOptions, GetLedgerEntryOptions, GetTransactionStatusOptions,
};
use testkit::capture::ThreadCapture;

use crate::support::{admin, sandbox, within};

#[tokio::test(flavor = "current_thread")]
async fn the_client_request_id_is_the_callers_or_fresh_and_shows_in_errors_and_spans() {
    let capture = ThreadCapture::start(tracing::Level::DEBUG);

    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    tracing::callsite::rebuild_interest_cache();
    capture.take();

    // The caller's id, on a call the ledger answers with an error.
    let err = within(client.get_ledger_entry(
        "1.999999",
        Some(GetLedgerEntryOptions {
            call: CallOptions {
                client_request_id: Some("support-case-42".into()),
                ..Default::default()
            },
            ..Default::default()
        }),
    ))
    .await
    .unwrap_err();
    assert_eq!(err.client_request_id(), Some("support-case-42"), "{err}");
    let output = capture.take();
    assert!(
        output.contains("client_request_id=support-case-42"),
        "{output}"
    );

    // None given: a fresh UUID per call.
    let status = |id: &'static str| {
        client.get_transaction_status(
            id,
            Some(GetTransactionStatusOptions {
                ..Default::default()
            }),
        )
    };
    let first = within(client.get_ledger_entry("1.999998", None))
        .await
        .unwrap_err();
    let second = within(client.get_ledger_entry("1.999998", None))
        .await
        .unwrap_err();
    let (a, b) = (
        first.client_request_id().expect("an id was sent"),
        second.client_request_id().expect("an id was sent"),
    );
    assert_ne!(a, b);
    assert_eq!(a.len(), 36, "{a}");

    // Refused before sending: no id, and a bad id is refused as input.
    let err = within(status("2.x")).await.unwrap_err();
    assert_eq!(err.client_request_id(), None);
    let err = within(client.get_transaction_status(
        "2.1",
        Some(GetTransactionStatusOptions::new().client_request_id("not valid")),
    ))
    .await
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{err}");
    sandbox.shutdown().await;
}

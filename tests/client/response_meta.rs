//! Response metadata on success: the `..._with_response` methods give the answer's status,
//! headers, the transaction it reflects (`x-ms-ccf-transaction-id`) and the client request id.

use confidential_ledger::client::{
    CallOptions, GetCurrentLedgerEntryOptions, GetLedgerEntryOptions, GetTransactionStatusOptions,
};
use confidential_ledger::models::TransactionState;
use reqwest::StatusCode;

use crate::support::{admin, sandbox, within};

#[tokio::test]
async fn reads_with_response_give_the_transaction_id_and_the_request_id() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let written = within(client.create_ledger_entry_and_wait("with metadata", None))
        .await
        .unwrap();

    let response = within(client.get_current_ledger_entry_with_response(Some(
        GetCurrentLedgerEntryOptions {
            call: CallOptions {
                client_request_id: Some("read-1".into()),
                ..Default::default()
            },
            ..Default::default()
        },
    )))
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.client_request_id(), "read-1");
    assert_eq!(response.contents, "with metadata");
    let read_at = response
        .transaction_id()
        .expect("the ledger names its state");
    assert!(
        read_at >= written.transaction_id,
        "{read_at} < {}",
        written.transaction_id
    );
    assert!(response.headers().contains_key("x-ms-ccf-transaction-id"));
    let entry = response.into_inner();
    assert_eq!(entry.transaction_id, written.transaction_id);

    let status = within(client.get_transaction_status_with_response(
        &written.transaction_id.to_string(),
        Some(GetTransactionStatusOptions::default()),
    ))
    .await
    .unwrap();
    assert_eq!(status.state, TransactionState::Committed);
    assert_eq!(status.client_request_id().len(), 36, "a fresh UUID");
    assert!(status.transaction_id().is_some());

    // A historical read goes through `Loading`; the metadata is the final answer's.
    let read = within(client.get_ledger_entry_with_response(
        written.transaction_id,
        Some(GetLedgerEntryOptions {
            call: CallOptions {
                client_request_id: Some("historical-1".into()),
                ..Default::default()
            },
            ..Default::default()
        }),
    ))
    .await
    .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.client_request_id(), "historical-1");
    assert_eq!(read.contents, "with metadata");
    assert_eq!(
        read.transaction_id, written.transaction_id,
        "the entry's own id"
    );
    assert!(
        read.transaction_id().is_some(),
        "the answer's x-ms-ccf-transaction-id"
    );

    // Errors stay errors, with the request id.
    let err = within(client.get_transaction_status_with_response("2.x", None))
        .await
        .unwrap_err();
    assert_eq!(err.client_request_id(), None, "nothing was sent");
    sandbox.shutdown().await;
}

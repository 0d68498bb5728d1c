//! Receipts: fetched through `Loading`, verified against the pinned certificate in one call,
//! kept and verified again later.

use confidential_ledger::ErrorKind;
use confidential_ledger::client::GetVerifiedReceiptOptions;
use confidential_ledger::models::{QueryState, TransactionReceipt};
use confidential_ledger::receipt::{
    ApplicationClaim, Receipt, ReceiptError, ReceiptResponse, VerifyOptions,
};
use confidential_ledger_sandbox::FaultAction;
use futures::StreamExt;

use crate::support::{admin, sandbox, token_user, within};

#[tokio::test]
async fn a_receipt_is_fetched_through_loading_and_verifies_against_the_pin() {
    let sandbox = sandbox().await;
    let client = token_user(&sandbox, "reader-and-writer", &["Contributor"]).await;
    let written = within(client.create_ledger_entry_and_wait("proved", None))
        .await
        .unwrap();

    let poller = client.get_receipt(written.transaction_id, None);
    let progress = poller.progress();
    let watcher = tokio::spawn(progress.map(|u| u.status).collect::<Vec<_>>());
    let receipt = within(poller).await.unwrap();
    assert_eq!(within(watcher).await.unwrap(), [Some(QueryState::Loading)]);
    assert_eq!(receipt.transaction_id, written.transaction_id);

    let verified = client.verify_receipt(&receipt, None).unwrap();
    assert_eq!(
        verified.transaction_id,
        Some(written.transaction_id.to_string())
    );

    // Kept as JSON and verified later, offline, with the client's verifier.
    let stored = receipt.to_json().unwrap();
    assert_eq!(TransactionReceipt::from_json(&stored).unwrap(), receipt);
    let reread = ReceiptResponse::from_json(&stored).unwrap();
    assert_eq!(reread.to_json().unwrap(), stored);
    let inner = receipt.receipt.to_json().unwrap();
    assert_eq!(Receipt::from_json(&inner).unwrap(), receipt.receipt);
    // Not a receipt, or not a ready one: a Decode error, not a panic.
    for bad in [
        "",
        "{}",
        r#"{"receipt": null, "state": "Loading", "transactionId": ""}"#,
    ] {
        let err = TransactionReceipt::from_json(bad).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Decode { .. }),
            "{bad}: {err}"
        );
    }
    let verifier = client.receipt_verifier().unwrap();
    let again = verifier
        .verify_response(
            &reread,
            &VerifyOptions::new().transaction_id(written.transaction_id.to_string()),
        )
        .unwrap();
    assert_eq!(again, verified);
    // The verifier is the client's own, so its caches served the second check.
    assert!(std::sync::Arc::ptr_eq(
        &verifier,
        &client.receipt_verifier().unwrap()
    ));
    assert!(
        verifier.cache_stats().chain_hits >= 1,
        "{:?}",
        verifier.cache_stats()
    );

    // In one call.
    let proof = within(client.get_verified_receipt(written.transaction_id, None))
        .await
        .unwrap();
    assert_eq!(proof.verified, verified);
    assert_eq!(proof.receipt, receipt);
}

#[tokio::test]
async fn a_tampered_receipt_or_wrong_claims_are_rejected_with_the_failed_step() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let first = within(client.create_ledger_entry_and_wait("one", None))
        .await
        .unwrap();
    let second = within(client.create_ledger_entry_and_wait("two", None))
        .await
        .unwrap();
    let receipt = within(client.get_receipt(first.transaction_id, None))
        .await
        .unwrap();

    // The receipt of one transaction presented as another's.
    let mut swapped = receipt.clone();
    swapped.transaction_id = second.transaction_id;
    let err = client.verify_receipt(&swapped, None).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidReceipt);
    assert!(
        matches!(
            err.receipt_error(),
            Some(ReceiptError::TransactionId { .. })
        ),
        "{err}"
    );

    // A changed write set digest breaks the signature over the root.
    let mut tampered = receipt.clone();
    let leaf = match &mut tampered.receipt.leaf {
        confidential_ledger::receipt::ReceiptLeaf::Components(c) => c,
        other => panic!("an entry's receipt has leaf components, not {other:?}"),
    };
    let flipped = if leaf.write_set_digest.starts_with('0') {
        "1"
    } else {
        "0"
    };
    leaf.write_set_digest.replace_range(0..1, flipped);
    let err = client.verify_receipt(&tampered, None).unwrap_err();
    assert!(
        matches!(err.receipt_error(), Some(ReceiptError::Signature { .. })),
        "{err}"
    );

    // Claims the transaction was not written with.
    let claims = vec![ApplicationClaim::ledger_entry(
        "subledger:0",
        "one",
        b"secret",
    )];
    let err = within(client.get_verified_receipt(
        first.transaction_id,
        Some(GetVerifiedReceiptOptions::new().application_claims(claims)),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(err.receipt_error(), Some(ReceiptError::ClaimsDigest { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn a_receipt_needs_a_committed_transaction() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let err = within(client.get_receipt("2.1000000", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    assert_eq!(err.error_code(), Some("InvalidTransactionId"));
    assert_eq!(err.operation(), Some("get_receipt"));
}

#[tokio::test]
async fn reads_right_after_a_commit_outlast_a_lagging_node() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let written = within(client.create_ledger_entry_and_wait("fresh", None))
        .await
        .unwrap();
    let lagging = || FaultAction::status(404).code("TransactionPendingOrUnknown");
    let entry_path = format!("/app/transactions/{}", written.transaction_id);
    sandbox.faults().inject("GET", &entry_path, 2, lagging());
    let entry = within(client.get_ledger_entry(written.transaction_id, None))
        .await
        .unwrap();
    assert_eq!(entry.contents, "fresh");
    let receipt_path = format!("{entry_path}/receipt");
    sandbox.faults().clear();
    sandbox.faults().inject("GET", &receipt_path, 3, lagging());
    within(client.get_verified_receipt(written.transaction_id, None))
        .await
        .unwrap();
    assert_eq!(sandbox.faults().injected(), 5);

    // A fourth in a row ends the wait.
    sandbox.faults().inject("GET", &receipt_path, 4, lagging());
    let err = within(client.get_receipt(written.transaction_id, None))
        .await
        .unwrap_err();
    assert_eq!(
        err.error_code(),
        Some("TransactionPendingOrUnknown"),
        "{err}"
    );
}

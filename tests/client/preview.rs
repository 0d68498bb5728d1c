//! 2026-07-31-preview writes: `waitForCommit` through `create_ledger_entry_committed`, the
//! ledger's own wait cap, and writes rolled back before their commit (`503
//! TransactionRolledBack`, the sandbox's rollback switch), in both write modes.

use std::time::Duration;

use confidential_ledger::client::{
    CreateLedgerEntryOptions, ListLedgerEntriesOptions, PREVIEW_API_VERSION,
};
use confidential_ledger::models::TransactionState;
use confidential_ledger::options::WriteMode;
use confidential_ledger::{ClientOptions, ConfidentialLedgerClient, ErrorKind};
use confidential_ledger_sandbox::{FaultAction, Sandbox, SandboxOptions};
use futures::TryStreamExt;

use crate::support::{admin_certificate, builder, fast_options, sandbox, sandbox_with, within};

async fn client(sandbox: &Sandbox, options: ClientOptions) -> ConfidentialLedgerClient {
    within(
        builder(sandbox)
            .options(options)
            .certificate_credential(admin_certificate(sandbox))
            .build(),
    )
    .await
    .expect("the client builds")
}

fn preview() -> ClientOptions {
    let mut options = fast_options();
    options.api_version = PREVIEW_API_VERSION.to_owned();
    options
}

/// Every GET of a transaction (status, receipt, entry) is refused from now on: a call that
/// polls fails.
fn refuse_reads(sandbox: &Sandbox) {
    sandbox.faults().inject(
        "GET",
        "/app/transactions",
        1000,
        FaultAction::status(400).code("ReadsRefusedByTest"),
    );
}

async fn contents_of(client: &ConfidentialLedgerClient, collection: &str) -> Vec<String> {
    within(
        client
            .list_ledger_entries(Some(
                ListLedgerEntriesOptions::new().collection_id(collection),
            ))
            .try_collect::<Vec<_>>(),
    )
    .await
    .expect("the entries list")
    .into_iter()
    .map(|e| e.contents)
    .collect()
}

#[tokio::test]
async fn a_preview_write_returns_committed_with_a_verified_receipt_in_one_request() {
    let sandbox = sandbox().await;
    let client = client(&sandbox, preview()).await;
    refuse_reads(&sandbox);

    let options = CreateLedgerEntryOptions::new()
        .collection_id("preview")
        .verify_receipt(true);
    let committed = within(client.create_ledger_entry_committed("durable", Some(options)))
        .await
        .expect("the write commits");

    assert_eq!(committed.state, TransactionState::Committed);
    assert_eq!(committed.collection_id, "preview");
    assert_eq!(committed.receipt.transaction_id, committed.transaction_id);
    let verified = committed.verified.expect("the receipt was verified");
    assert_eq!(
        verified.transaction_id,
        Some(committed.transaction_id.to_string())
    );
    // Reads were refused all along: the write needed none.
    let refused = within(client.get_transaction_status(committed.transaction_id, None))
        .await
        .expect_err("reads are refused");
    assert_eq!(
        refused.error_code(),
        Some("ReadsRefusedByTest"),
        "{refused}"
    );
    // The receipt also verifies offline, on its own.
    client
        .verify_receipt(&committed.receipt, None)
        .expect("the receipt verifies");
}

#[tokio::test]
async fn a_stable_client_gets_the_same_result_by_polling() {
    let sandbox = sandbox().await;
    let client = client(&sandbox, fast_options()).await;
    let options = CreateLedgerEntryOptions::new().verify_receipt(true);
    let committed = within(client.create_ledger_entry_committed("stable", Some(options)))
        .await
        .expect("the write commits");
    assert_eq!(committed.state, TransactionState::Committed);
    assert_eq!(committed.receipt.transaction_id, committed.transaction_id);
    assert!(committed.verified.is_some());
}

#[tokio::test]
async fn a_commit_slower_than_the_ledgers_wait_is_waited_for_by_the_client() {
    let sandbox = sandbox_with(
        SandboxOptions::for_tests()
            .signature_interval(Duration::from_millis(300))
            .wait_for_commit_timeout(Duration::from_millis(1)),
    )
    .await;
    let client = client(&sandbox, preview()).await;
    let committed = within(client.create_ledger_entry_committed("slow", None))
        .await
        .expect("the write commits");
    assert_eq!(committed.state, TransactionState::Committed);
    assert_eq!(committed.receipt.transaction_id, committed.transaction_id);
    assert!(committed.verified.is_none(), "not asked to verify");
}

#[tokio::test]
async fn a_rolled_back_preview_write_is_a_typed_error_and_absent() {
    let sandbox = sandbox().await;
    let client = client(&sandbox, preview()).await;
    within(client.create_ledger_entry_committed(
        "kept",
        Some(CreateLedgerEntryOptions::new().collection_id("rb")),
    ))
    .await
    .expect("the first write commits");

    sandbox.roll_back_next_writes(1);
    let err = within(client.create_ledger_entry_committed(
        "rolled back",
        Some(CreateLedgerEntryOptions::new().collection_id("rb")),
    ))
    .await
    .expect_err("the write is rolled back");
    assert_eq!(err.kind(), &ErrorKind::TransactionRolledBack, "{err}");
    assert_eq!(err.error_code(), Some("TransactionRolledBack"));
    assert!(!err.is_outcome_unknown(), "{err}");
    let id = err.transaction_id().expect("the rolled-back id is kept");
    let status = within(client.get_transaction_status(id, None))
        .await
        .expect("the status reads");
    assert_eq!(status.state, TransactionState::Invalid);

    let after = within(client.create_ledger_entry_committed(
        "after",
        Some(CreateLedgerEntryOptions::new().collection_id("rb")),
    ))
    .await
    .expect("the next write commits");
    assert_eq!(after.transaction_id.seqno, id.seqno, "the seqno is reused");
    assert!(after.transaction_id.view > id.view, "under a new view");
    assert_eq!(contents_of(&client, "rb").await, ["kept", "after"]);
}

#[tokio::test]
async fn a_rolled_back_plain_write_is_invalid_when_waited_for() {
    let sandbox = sandbox().await;
    let client = client(&sandbox, preview()).await;
    sandbox.roll_back_next_writes(1);
    let written = within(client.create_ledger_entry("gone", None))
        .await
        .expect("the ledger answers the write");
    let err = within(client.wait_for_commit(written.transaction_id, None))
        .await
        .expect_err("it never commits");
    assert_eq!(err.kind(), &ErrorKind::TransactionInvalid, "{err}");
}

#[tokio::test]
async fn exactly_once_sends_a_rolled_back_preview_write_again_once() {
    let sandbox = sandbox().await;
    let mut options = preview();
    options.write_mode = WriteMode::ExactlyOnce;
    options.exactly_once.settle_delay = Duration::from_millis(10);
    let client = client(&sandbox, options).await;

    sandbox.roll_back_next_writes(1);
    let committed = within(
        client.create_ledger_entry_committed(
            "exactly once",
            Some(
                CreateLedgerEntryOptions::new()
                    .collection_id("xo")
                    .verify_receipt(true),
            ),
        ),
    )
    .await
    .expect("the write is sent again and commits");
    assert_eq!(committed.state, TransactionState::Committed);
    assert!(committed.verified.is_some());
    assert_eq!(contents_of(&client, "xo").await, ["exactly once"]);
}

#[tokio::test]
async fn at_most_once_does_not_resend_a_rolled_back_write() {
    let sandbox = sandbox().await;
    let client = client(&sandbox, preview()).await;
    sandbox.roll_back_next_writes(1);
    let err = within(client.create_ledger_entry_committed(
        "once",
        Some(CreateLedgerEntryOptions::new().collection_id("amo")),
    ))
    .await
    .expect_err("rolled back");
    assert_eq!(err.kind(), &ErrorKind::TransactionRolledBack);
    // Nothing was resent: the collection has no entry.
    within(client.create_ledger_entry_committed(
        "marker",
        Some(CreateLedgerEntryOptions::new().collection_id("amo")),
    ))
    .await
    .expect("a later write commits");
    assert_eq!(contents_of(&client, "amo").await, ["marker"]);
}

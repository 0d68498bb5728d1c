//! Exactly-once writes against the sandbox's own faults: every ambiguous outcome is resolved by
//! the client (found applied, or sent again), refusals say the write was not applied, the
//! marker tag is written and hidden from `list_tags`, and the mode is refused on an old
//! api-version.

use std::time::Duration;

use confidential_ledger::client::{
    CreateLedgerEntryOptions, ListLedgerEntriesOptions, ListTagsOptions, is_marker,
};
use confidential_ledger::options::WriteMode;
use confidential_ledger::{ClientOptions, ConfidentialLedgerClient, ErrorKind};
use confidential_ledger_sandbox::{FaultAction, Sandbox};
use futures::TryStreamExt;

use crate::support::{admin_certificate, builder, sandbox, token_user, within};

const WRITES: &str = "/app/transactions";

/// Exactly-once options for tests: a short settle delay, a deadline well inside a step.
fn xo_options() -> ClientOptions {
    let mut options = crate::support::fast_options();
    options.write_mode = WriteMode::ExactlyOnce;
    options.exactly_once.settle_delay = Duration::from_millis(20);
    options.exactly_once.max_settle_delay = Duration::from_millis(200);
    options.call_timeout = Some(Duration::from_secs(20));
    options
}

async fn client_with(sandbox: &Sandbox, options: ClientOptions) -> ConfidentialLedgerClient {
    within(
        builder(sandbox)
            .certificate_credential(admin_certificate(sandbox))
            .options(options)
            .build(),
    )
    .await
    .expect("the client builds")
}

/// The entries of `collection` with their transaction ids, once everything written so far is
/// committed.
async fn committed(
    sandbox: &Sandbox,
    client: &ConfidentialLedgerClient,
    collection: &str,
) -> Vec<(String, String)> {
    let id = sandbox.append_entry("settle", "settle").await.unwrap();
    within(client.wait_for_commit(id.to_string(), None))
        .await
        .unwrap();
    within(
        client
            .list_ledger_entries(Some(
                ListLedgerEntriesOptions::new().collection_id(collection),
            ))
            .map_ok(|e| (e.contents, e.transaction_id.to_string()))
            .try_collect(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_found_and_reported_with_its_id() {
    let sandbox = sandbox().await;
    let client = client_with(&sandbox, xo_options()).await;
    sandbox
        .faults()
        .inject("POST", WRITES, 1, FaultAction::DropAfterProcessing);
    let written = within(client.create_ledger_entry(
        "applied, answer lost",
        Some(CreateLedgerEntryOptions::new().collection_id("xo")),
    ))
    .await
    .expect("resolved by the lookup");
    assert_eq!(written.collection_id, "xo");
    assert_eq!(
        committed(&sandbox, &client, "xo").await,
        [(
            "applied, answer lost".to_owned(),
            written.transaction_id.to_string()
        )]
    );
    assert_eq!(sandbox.faults().injected(), 1);
}

#[tokio::test]
async fn writes_that_were_not_applied_are_sent_again_and_land_once() {
    let sandbox = sandbox().await;
    let client = client_with(&sandbox, xo_options()).await;
    for (i, action) in [
        FaultAction::DropBeforeProcessing,
        FaultAction::status(503),
        FaultAction::status(429).retry_after(Duration::from_millis(100)),
        FaultAction::status(500),
    ]
    .into_iter()
    .enumerate()
    {
        sandbox.faults().inject("POST", WRITES, 1, action.clone());
        let contents = format!("write {i}");
        let written = within(client.create_ledger_entry(
            contents.clone(),
            Some(CreateLedgerEntryOptions::new().collection_id("again")),
        ))
        .await
        .unwrap_or_else(|e| panic!("{action:?}: {e}"));
        let entries = committed(&sandbox, &client, "again").await;
        assert_eq!(
            entries.last(),
            Some(&(contents, written.transaction_id.to_string())),
            "{action:?}"
        );
        assert_eq!(entries.len(), i + 1, "{action:?}: once each: {entries:?}");
    }
}

#[tokio::test]
async fn a_refused_write_says_it_was_not_applied() {
    let sandbox = sandbox().await;
    let reader = token_user(&sandbox, "reader-oid", &["Reader"]).await;
    let options = CreateLedgerEntryOptions::new().write_mode(WriteMode::ExactlyOnce);
    let err = within(reader.create_ledger_entry("not mine to write", Some(options)))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Forbidden { .. }), "{err}");
    assert!(err.to_string().contains("not applied"), "{err}");
}

#[tokio::test]
async fn an_unreachable_ledger_ends_in_outcome_unknown_at_the_deadline_after_repeated_lookups() {
    let sandbox = sandbox().await;
    let mut options = xo_options();
    options.call_timeout = Some(Duration::from_millis(600));
    let client = client_with(&sandbox, options).await;
    // The write is applied but its answer lost; every lookup then fails.
    sandbox
        .faults()
        .inject("POST", WRITES, 1, FaultAction::DropAfterProcessing);
    sandbox
        .faults()
        .inject("GET", WRITES, 10_000, FaultAction::status(500));
    let err = within(client.create_ledger_entry("unresolved", None))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(
        err.to_string()
            .contains("exactly-once mode could not find out"),
        "{err}"
    );
    // It looked (and was refused) more than once before giving up.
    assert!(
        sandbox.faults().injected() > 2,
        "{}",
        sandbox.faults().injected()
    );
    sandbox.faults().clear();
}

#[tokio::test]
async fn the_marker_is_written_and_list_tags_leaves_it_out_unless_asked() {
    let sandbox = sandbox().await;
    let client = client_with(&sandbox, ClientOptions::default()).await;
    // Per call, on a client whose default is the plain mode.
    let options = CreateLedgerEntryOptions::new()
        .collection_id("tagged")
        .tags(["audit"])
        .write_mode(WriteMode::ExactlyOnce);
    let written = within(client.create_ledger_entry_and_wait("marked", Some(options)))
        .await
        .unwrap();
    let plain = CreateLedgerEntryOptions::new()
        .collection_id("tagged")
        .tags(["audit"]);
    within(client.create_ledger_entry_and_wait("plain", Some(plain)))
        .await
        .unwrap();

    let tags: Vec<String> = within(
        client
            .list_tags(Some(ListTagsOptions::new().collection_id("tagged")))
            .try_collect(),
    )
    .await
    .unwrap();
    assert_eq!(tags, ["audit"]);
    let all: Vec<String> = within(
        client
            .list_tags(Some(
                ListTagsOptions::new()
                    .collection_id("tagged")
                    .include_markers(true),
            ))
            .try_collect(),
    )
    .await
    .unwrap();
    let markers: Vec<&String> = all.iter().filter(|t| is_marker(t)).collect();
    assert_eq!(
        markers.len(),
        1,
        "one marker, for the exactly-once write: {all:?}"
    );
    let by_marker: Vec<_> = within(
        client
            .list_ledger_entries(Some(
                ListLedgerEntriesOptions::new()
                    .collection_id("tagged")
                    .tag(markers[0].clone()),
            ))
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(by_marker.len(), 1);
    assert_eq!(by_marker[0].contents, "marked");
    assert_eq!(by_marker[0].transaction_id, written.transaction_id);
}

#[tokio::test]
async fn the_mode_is_refused_before_sending_on_an_api_version_without_tags() {
    let sandbox = sandbox().await;
    let mut options = xo_options();
    options.api_version = "2024-12-09-preview".into();
    let client = client_with(&sandbox, options).await;
    sandbox
        .faults()
        .inject("POST", WRITES, 1, FaultAction::status(500));
    let err = within(client.create_ledger_entry("too old", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("2026-02-23 or later"), "{err}");
    assert_eq!(sandbox.faults().injected(), 0, "nothing was sent");
    // The plain mode still writes with that api-version.
    sandbox.faults().clear();
    let plain = CreateLedgerEntryOptions::new().write_mode(WriteMode::AtMostOnce);
    within(client.create_ledger_entry("plain", Some(plain)))
        .await
        .unwrap();
}

#[tokio::test]
async fn begin_create_ledger_entry_resolves_before_it_hands_back_the_poller() {
    let sandbox = sandbox().await;
    let client = client_with(&sandbox, xo_options()).await;
    sandbox
        .faults()
        .inject("POST", WRITES, 1, FaultAction::DropAfterProcessing);
    let poller = within(client.begin_create_ledger_entry(
        "begun",
        Some(CreateLedgerEntryOptions::new().collection_id("begun")),
    ))
    .await
    .expect("resolved by the lookup");
    let id = poller.transaction_id().expect("the write's id");
    let written = within(poller).await.expect("committed");
    assert_eq!(written.transaction_id, id);
    assert_eq!(
        committed(&sandbox, &client, "begun").await,
        [("begun".to_owned(), id.to_string())]
    );
}

//! Writing, waiting for commits, reading back, listing: every entry operation, its pollers
//! and pagers.

use std::time::Duration;

use confidential_ledger::client::{
    CreateLedgerEntryOptions, GetCurrentLedgerEntryOptions, GetLedgerEntryOptions,
    ListLedgerEntriesOptions, ListTagsOptions, WaitForCommitOptions,
};
use confidential_ledger::models::{QueryState, TransactionState};
use confidential_ledger::poller::PollingOptions;
use confidential_ledger::{ErrorKind, TransactionId};
use confidential_ledger_sandbox::{FaultAction, SandboxOptions};
use futures::{StreamExt, TryStreamExt};

use crate::support::{admin, builder, fast_options, sandbox, sandbox_with, token_user, within};

#[tokio::test]
async fn a_contributor_writes_waits_and_reads_back_with_a_bearer_token() {
    let sandbox = sandbox().await;
    let client = token_user(&sandbox, "contributor-oid", &["Contributor"]).await;

    let written = within(client.create_ledger_entry("hello", None))
        .await
        .unwrap();
    assert_eq!(written.collection_id, "subledger:0");
    assert!(written.transaction_id.seqno > 0);

    let status = within(client.wait_for_commit(written.transaction_id, None))
        .await
        .unwrap();
    assert_eq!(status.transaction_id, written.transaction_id);
    assert_eq!(status.state, TransactionState::Committed);
    let again = within(client.get_transaction_status(written.transaction_id.to_string(), None))
        .await
        .unwrap();
    assert!(again.state.is_committed());

    // The sandbox answers a historical read `Loading` once: the poller waits it out, and its
    // progress says so.
    let poller = client.get_ledger_entry(written.transaction_id, None);
    assert_eq!(poller.transaction_id(), Some(written.transaction_id));
    let progress = poller.progress();
    let watcher = tokio::spawn(progress.map(|update| update.status).collect::<Vec<_>>());
    let entry = within(poller).await.unwrap();
    assert_eq!(entry.contents, "hello");
    assert_eq!(entry.collection_id, "subledger:0");
    assert_eq!(entry.transaction_id, written.transaction_id);
    assert_eq!(within(watcher).await.unwrap(), [Some(QueryState::Loading)]);

    let current = within(client.get_current_ledger_entry(None)).await.unwrap();
    assert_eq!(current, entry);
}

#[tokio::test]
async fn create_and_wait_and_begin_create_wait_for_the_commit() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let written = within(client.create_ledger_entry_and_wait("durable", None))
        .await
        .unwrap();
    let status = within(client.get_transaction_status(written.transaction_id, None))
        .await
        .unwrap();
    assert!(status.state.is_committed());

    let poller = within(client.begin_create_ledger_entry("second", None))
        .await
        .unwrap();
    let id = poller.transaction_id().expect("the write is done");
    assert!(id > written.transaction_id);
    let result = within(poller).await.unwrap();
    assert_eq!(result.transaction_id, id);
    let status = within(client.get_transaction_status(id, None))
        .await
        .unwrap();
    assert!(status.state.is_committed());
}

#[tokio::test]
async fn collections_tags_and_filtered_lists() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let audit = |tags: &[&str]| {
        CreateLedgerEntryOptions::new()
            .collection_id("audit")
            .tags(tags.iter().copied())
    };
    within(client.create_ledger_entry("default collection", None))
        .await
        .unwrap();
    within(client.create_ledger_entry("alice in", Some(audit(&["login", "alice"]))))
        .await
        .unwrap();
    within(client.create_ledger_entry("bob in", Some(audit(&["login"]))))
        .await
        .unwrap();
    let last = within(client.create_ledger_entry_and_wait("alice out", Some(audit(&["alice"]))))
        .await
        .unwrap();
    assert_eq!(last.collection_id, "audit");

    let mut collections: Vec<String> = within(
        client
            .list_collections(None)
            .map_ok(|c| c.collection_id)
            .try_collect(),
    )
    .await
    .unwrap();
    collections.sort();
    assert_eq!(collections, ["audit", "subledger:0"]);

    let mut tags: Vec<String> = within(
        client
            .list_tags(Some(ListTagsOptions::new().collection_id("audit")))
            .try_collect(),
    )
    .await
    .unwrap();
    tags.sort();
    assert_eq!(tags, ["alice", "login"]);

    let logins: Vec<String> = within(
        client
            .list_ledger_entries(Some(
                ListLedgerEntriesOptions::new()
                    .collection_id("audit")
                    .tag("login"),
            ))
            .map_ok(|e| e.contents)
            .try_collect(),
    )
    .await
    .unwrap();
    assert_eq!(logins, ["alice in", "bob in"]);

    let current = within(client.get_current_ledger_entry(Some(
        GetCurrentLedgerEntryOptions::new().collection_id("audit"),
    )))
    .await
    .unwrap();
    assert_eq!(current.contents, "alice out");

    // An entry is read from the collection it was written to.
    let entry = within(client.get_ledger_entry(
        last.transaction_id,
        Some(GetLedgerEntryOptions::new().collection_id("audit")),
    ))
    .await
    .unwrap();
    assert_eq!(entry.contents, "alice out");
    let err = within(client.get_ledger_entry(last.transaction_id, None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    assert_eq!(err.error_code(), Some("UnknownLedgerEntry"));
}

#[tokio::test]
async fn ranges_span_several_pages_and_wait_out_loading() {
    let sandbox = sandbox_with(SandboxOptions::for_tests().page_size(3)).await;
    let client = admin(&sandbox).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let written = within(client.create_ledger_entry(format!("message {i}"), None))
            .await
            .unwrap();
        ids.push(written.transaction_id);
    }
    within(client.wait_for_commit(ids[9], None)).await.unwrap();
    let range = || {
        ListLedgerEntriesOptions::new()
            .from_transaction_id(ids[1])
            .to_transaction_id(ids[8])
    };

    let entries: Vec<_> = within(client.list_ledger_entries(Some(range())).try_collect())
        .await
        .unwrap();
    let contents: Vec<&str> = entries.iter().map(|e| e.contents.as_str()).collect();
    assert_eq!(
        contents,
        (1..=8).map(|i| format!("message {i}")).collect::<Vec<_>>()
    );
    assert!(
        entries
            .windows(2)
            .all(|w| w[0].transaction_id < w[1].transaction_id)
    );

    // Page by page: the first answer is `Loading` (waited out, not yielded), then pages of at
    // most three entries.
    let pages: Vec<Vec<TransactionId>> = within(
        client
            .list_ledger_entries(Some(range()))
            .into_pages()
            .map_ok(|page| page.items().iter().map(|e| e.transaction_id).collect())
            .try_collect(),
    )
    .await
    .unwrap();
    assert!(pages.len() >= 3, "{pages:?}");
    assert!(pages.iter().all(|p| p.len() <= 3), "{pages:?}");
    assert_eq!(pages.concat(), ids[1..=8]);

    // Without a range: the whole collection.
    let all = within(client.list_ledger_entries(None).try_collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(all.len(), 10);
}

#[tokio::test]
async fn input_is_checked_before_anything_is_sent() {
    let sandbox = sandbox().await;
    let mut options = fast_options();
    options.max_entry_bytes = 16;
    let client = within(
        builder(&sandbox)
            .certificate_credential(crate::support::admin_certificate(&sandbox))
            .options(options)
            .build(),
    )
    .await
    .unwrap();
    // Any request that reaches the ledger from now on fails and is counted.
    sandbox
        .faults()
        .inject("*", "/", 1000, FaultAction::status(500));

    let refused = |err: confidential_ledger::Error, expected: &str| {
        assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(expected), "{err}");
    };
    refused(
        within(client.create_ledger_entry("", None))
            .await
            .unwrap_err(),
        "empty",
    );
    refused(
        within(client.create_ledger_entry("seventeen bytes!!", None))
            .await
            .unwrap_err(),
        "17 bytes, more than the 16 bytes allowed",
    );
    refused(
        within(
            client.create_ledger_entry("x", Some(CreateLedgerEntryOptions::new().tags(["a,b"]))),
        )
        .await
        .unwrap_err(),
        "comma",
    );
    refused(
        within(
            client
                .create_ledger_entry("x", Some(CreateLedgerEntryOptions::new().collection_id(""))),
        )
        .await
        .unwrap_err(),
        "collection id is empty",
    );
    refused(
        within(client.get_ledger_entry("2.x", None))
            .await
            .unwrap_err(),
        "invalid transaction id \"2.x\"",
    );
    refused(
        within(client.get_receipt("2", None)).await.unwrap_err(),
        "invalid transaction id",
    );
    refused(
        within(client.wait_for_commit("-1.2", None))
            .await
            .unwrap_err(),
        "invalid transaction id",
    );
    refused(
        within(client.get_transaction_status(" 2.1", None))
            .await
            .unwrap_err(),
        "invalid transaction id",
    );
    refused(
        within(client.get_verified_receipt("2.1.1", None))
            .await
            .unwrap_err(),
        "invalid transaction id",
    );
    let backwards = ListLedgerEntriesOptions::new()
        .from_transaction_id(TransactionId::new(2, 9))
        .to_transaction_id(TransactionId::new(2, 3));
    let mut pager = client.list_ledger_entries(Some(backwards));
    refused(
        within(pager.next()).await.unwrap().unwrap_err(),
        "after its end",
    );
    assert!(within(pager.next()).await.is_none());
    // A malformed range bound, given as text in a struct literal.
    let malformed = ListLedgerEntriesOptions {
        from_transaction_id: Some("2.x".into()),
        ..Default::default()
    };
    let mut pager = client.list_ledger_entries(Some(malformed));
    refused(
        within(pager.next()).await.unwrap().unwrap_err(),
        "invalid transaction id \"2.x\"",
    );
    assert!(within(pager.next()).await.is_none());
    refused(
        within(client.get_ledger_user("", None)).await.unwrap_err(),
        "user id is empty",
    );
    refused(
        within(client.delete_ledger_user("a\\b", None))
            .await
            .unwrap_err(),
        "'\\'",
    );
    refused(
        within(client.create_or_update_ledger_user("someone", &[], None))
            .await
            .unwrap_err(),
        "at least one role",
    );
    refused(
        within(client.get_user_defined_function("f:execute", None))
            .await
            .unwrap_err(),
        "':'",
    );
    assert_eq!(
        sandbox.faults().injected(),
        0,
        "a request reached the ledger"
    );
}

#[tokio::test]
async fn waiting_for_a_commit_outlasts_replication_lag_but_not_a_bad_id() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let written = within(client.create_ledger_entry("lagging", None))
        .await
        .unwrap();
    let status_path = format!("/app/transactions/{}/status", written.transaction_id);
    // A node that has not caught up: three 404s, then 406s while pending.
    sandbox
        .faults()
        .inject("GET", &status_path, 3, FaultAction::status(404));
    sandbox
        .faults()
        .inject("GET", &status_path, 2, FaultAction::status(406));
    let status = within(client.wait_for_commit(written.transaction_id, None))
        .await
        .unwrap();
    assert!(status.state.is_committed());
    assert_eq!(sandbox.faults().injected(), 5);

    // Four in a row are too many (another write: the first one is known committed now, and
    // waiting for it again sends nothing).
    let written = within(client.create_ledger_entry("lagging more", None))
        .await
        .unwrap();
    let status_path = format!("/app/transactions/{}/status", written.transaction_id);
    sandbox
        .faults()
        .inject("GET", &status_path, 4, FaultAction::status(404));
    let err = within(client.wait_for_commit(written.transaction_id, None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    assert_eq!(sandbox.faults().injected(), 9);

    // An id the ledger never issued ends the wait at the first answer.
    let mut poller = client.wait_for_commit(TransactionId::new(2, 1_000_000), None);
    let err = within(poller.poll_once()).await.unwrap_err();
    assert_eq!(err.error_code(), Some("InvalidTransactionId"), "{err}");
    assert_eq!(poller.polls(), 1);
}

#[tokio::test]
async fn waits_give_up_at_their_timeout_with_progress_reported() {
    let sandbox = sandbox_with(SandboxOptions::for_tests().loading_responses(1_000_000)).await;
    let client = admin(&sandbox).await;
    let written = within(client.create_ledger_entry_and_wait("slow", None))
        .await
        .unwrap();

    // An entry that stays `Loading`.
    let poller = client.get_ledger_entry(
        written.transaction_id,
        Some(
            GetLedgerEntryOptions::new()
                .timeout(Duration::from_millis(300))
                .polling(PollingOptions {
                    initial_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(20),
                    ..PollingOptions::default()
                }),
        ),
    );
    let progress = poller.progress();
    let watcher = tokio::spawn(progress.collect::<Vec<_>>());
    let err = within(poller).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.kind(), &ErrorKind::Timeout);
    let updates = within(watcher).await.unwrap();
    assert!(updates.len() >= 3, "{updates:?}");
    assert!(
        updates
            .iter()
            .all(|u| u.status == Some(QueryState::Loading))
    );
    assert!(updates.windows(2).all(|w| w[0].polls < w[1].polls));

    // A commit that never comes (the status answers 406 every time).
    let pending = within(client.create_ledger_entry("pending", None))
        .await
        .unwrap();
    sandbox.faults().inject(
        "GET",
        &format!("/app/transactions/{}/status", pending.transaction_id),
        1000,
        FaultAction::status(406),
    );
    let options = WaitForCommitOptions::new().timeout(Duration::from_millis(200));
    let err = within(client.wait_for_commit(pending.transaction_id, Some(options)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Timeout, "{err}");
}

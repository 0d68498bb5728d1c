//! Transient failures and misbehaving answers, injected into the sandbox: retries, writes
//! that must not be applied twice, dropped connections, redirects.

use std::time::Duration;

use confidential_ledger::{ConfidentialLedgerClient, ErrorKind};
use confidential_ledger_sandbox::{FaultAction, Sandbox};
use futures::TryStreamExt;
use testkit::http::{Reply, Server};

use crate::support::{admin, sandbox, token_user, within};

const WRITES: &str = "/app/transactions";

/// Every entry of the default collection, committed.
async fn entries(client: &ConfidentialLedgerClient) -> Vec<String> {
    within(
        client
            .list_ledger_entries(None)
            .map_ok(|e| e.contents)
            .try_collect(),
    )
    .await
    .unwrap()
}

/// Waits until everything the sandbox holds is committed, through a marker write.
async fn settle(sandbox: &Sandbox, client: &ConfidentialLedgerClient) {
    let id = sandbox.append_entry("settle", "marker").await.unwrap();
    within(client.wait_for_commit(id.to_string(), None))
        .await
        .unwrap();
}

/// "A write answered 503 or 429 was not applied" is the server's word, not a proof: the write
/// is reported as an unknown outcome (keeping the status and `Retry-After`) and never sent
/// again by the default mode.
#[tokio::test]
async fn a_write_answered_503_or_429_is_outcome_unknown_and_not_sent_again() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    for (action, status) in [
        (FaultAction::status(503), 503),
        (
            FaultAction::status(429).retry_after(Duration::from_secs(1)),
            429,
        ),
    ] {
        sandbox.faults().inject("POST", WRITES, 1, action);
        // A second fault that a resend would trip.
        sandbox
            .faults()
            .inject("POST", WRITES, 1, FaultAction::status(500));
        let err = within(client.create_ledger_entry("maybe", None))
            .await
            .unwrap_err();
        assert!(err.is_outcome_unknown(), "{status}: {err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(sandbox.faults().remaining(), 1, "{status}: sent once");
        sandbox.faults().clear();
    }
    assert_eq!(
        within(client.create_ledger_entry("maybe", None))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Ok(())
    );
    settle(&sandbox, &client).await;
    assert_eq!(entries(&client).await, ["maybe"]);
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_outcome_unknown_and_applied_once() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    sandbox
        .faults()
        .inject("POST", WRITES, 1, FaultAction::DropAfterProcessing);
    let err = within(client.create_ledger_entry("maybe", None))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(err.operation(), Some("create_ledger_entry"));
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("Check by reading"), "{err}");
    settle(&sandbox, &client).await;
    // The ledger applied it, and the client did not send it again.
    assert_eq!(entries(&client).await, ["maybe"]);
}

/// A connection closed after the request was sent looks the same to a client whether or not
/// the server processed it, so a write is never retried after one: it is reported as
/// `OutcomeUnknown`, and nothing is duplicated. (Here the ledger had not processed it; the
/// caller checks, as the error says, and writes again.)
#[tokio::test]
async fn a_write_dropped_before_processing_is_never_duplicated() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    sandbox
        .faults()
        .inject("POST", WRITES, 1, FaultAction::DropBeforeProcessing);
    let err = within(client.create_ledger_entry("lost", None))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    settle(&sandbox, &client).await;
    assert!(entries(&client).await.is_empty());
    within(client.create_ledger_entry_and_wait("lost", None))
        .await
        .unwrap();
    assert_eq!(entries(&client).await, ["lost"]);
}

#[tokio::test]
async fn reads_are_retried_after_dropped_connections_and_server_errors() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    within(client.create_ledger_entry_and_wait("read me", None))
        .await
        .unwrap();
    let path = "/app/transactions/current";
    sandbox
        .faults()
        .inject("GET", path, 1, FaultAction::DropBeforeProcessing);
    sandbox
        .faults()
        .inject("GET", path, 1, FaultAction::DropAfterProcessing);
    sandbox
        .faults()
        .inject("GET", path, 1, FaultAction::status(500));
    let current = within(client.get_current_ledger_entry(None)).await.unwrap();
    assert_eq!(current.contents, "read me");
    assert_eq!(sandbox.faults().injected(), 3);

    // Past the retry budget (3 retries), the last error is returned.
    sandbox
        .faults()
        .inject("GET", path, 4, FaultAction::status(503));
    let err = within(client.get_current_ledger_entry(None))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_and_nothing_is_sent_there() {
    let sandbox = sandbox().await;
    let client = token_user(&sandbox, "writer-oid", &["Contributor"]).await;
    let foreign = Server::start(|_| Reply::status(200)).await;
    for target in [
        foreign.url(""),
        format!("https://127.0.0.1:{}", foreign.port()),
        format!("https://localhost:{}", foreign.port()),
    ] {
        sandbox
            .faults()
            .inject("POST", WRITES, 1, FaultAction::redirect(&target));
        let err = within(client.create_ledger_entry("redirected", None))
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::RedirectRefused { .. }),
            "{target}: {err}"
        );
        assert!(err.to_string().contains("nothing was sent there"), "{err}");
    }
    // The foreign server saw no request (so no credentials), not even a connection.
    assert_eq!(foreign.request_count(), 0);
    assert_eq!(foreign.connection_count(), 0);
    settle(&sandbox, &client).await;
    assert!(entries(&client).await.is_empty());

    // A redirect inside the ledger (same scheme, host and port) is followed with the body
    // and the credentials, once.
    sandbox.faults().inject(
        "POST",
        WRITES,
        1,
        FaultAction::redirect(sandbox.ledger_endpoint()),
    );
    within(client.create_ledger_entry_and_wait("followed", None))
        .await
        .unwrap();
    assert_eq!(entries(&client).await, ["followed"]);
}

#[tokio::test]
async fn request_timeouts_apply_and_a_timed_out_write_is_not_sent_again() {
    let sandbox = sandbox().await;
    let mut options = crate::support::fast_options();
    options.request_timeout = Some(Duration::from_millis(200));
    options.retry.max_retries = 1;
    let client = within(
        crate::support::builder(&sandbox)
            .certificate_credential(crate::support::admin_certificate(&sandbox))
            .options(options)
            .build(),
    )
    .await
    .unwrap();
    let slow = FaultAction::Delay(Duration::from_secs(2));

    // A read that times out is retried (once here), then reported as a timeout.
    sandbox
        .faults()
        .inject("GET", "/app/transactions/current", 2, slow.clone());
    let err = within(client.get_current_ledger_entry(None))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(sandbox.faults().injected(), 2);

    // A write that times out may have been applied: it is not sent again (a second attempt
    // would trip the second fault).
    sandbox.faults().inject("POST", WRITES, 1, slow);
    sandbox
        .faults()
        .inject("POST", WRITES, 1, FaultAction::status(500));
    let err = within(client.create_ledger_entry("slow write", None))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(
        err.to_string().contains("timed out after it was sent"),
        "{err}"
    );
    assert_eq!(sandbox.faults().injected(), 3);
    assert_eq!(sandbox.faults().remaining(), 1);
}

#[tokio::test]
async fn the_identity_lookup_goes_through_the_configured_proxy() {
    // Plain HTTP identity endpoint: the fake proxy answers the lookup itself (an HTTPS one
    // would need a CONNECT tunnel).
    let sandbox = crate::support::sandbox_with(
        confidential_ledger_sandbox::SandboxOptions::for_tests().identity_plain_http(true),
    )
    .await;
    let identity = serde_json::json!({
        "ledgerId": "sandbox",
        "ledgerTlsCertificate": sandbox.service_certificate_pem(),
    })
    .to_string();
    let proxy = Server::start(move |_| Reply::json(200, &identity)).await;
    let mut options = crate::support::fast_options();
    options.proxy = confidential_ledger::options::ProxyOptions::url(proxy.url(""));
    let client = within(
        crate::support::builder(&sandbox)
            .certificate_credential(crate::support::admin_certificate(&sandbox))
            .options(options)
            .build(),
    )
    .await
    .unwrap();
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0]
            .path
            .contains("/ledgerIdentity/sandbox?api-version="),
        "{requests:?}"
    );
    // The ledger's own requests take the same proxy (a CONNECT tunnel, which this recording
    // server does not open, so the call fails).
    let err = within(client.get_constitution(None)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Transport, "{err}");
    assert!(err.is_connect(), "{err}");
    assert!(
        proxy.requests().iter().any(|r| r.method == "CONNECT"),
        "{:?}",
        proxy.requests()
    );
}

//! Observability: spans per call with the transaction id, and bodies logged only when the
//! client or the call asks for it.

use confidential_ledger::client::{CreateLedgerEntryOptions, GetLedgerEntryOptions};
use testkit::capture::ThreadCapture;

use crate::support::{admin, sandbox, within};

/// The lines of the client's own targets (not the sandbox's).
fn client_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|line| {
            line.contains(" confidential_ledger::pipeline:")
                || line.contains(" confidential_ledger::client:")
        })
        .collect()
}

// The test runtime runs on this thread only, so the thread's default subscriber sees every
// event of the client (and of the sandbox, filtered out above); other tests' threads have no
// subscriber, so their events do not show up here.
#[tokio::test(flavor = "current_thread")]
async fn calls_have_spans_and_bodies_are_logged_only_when_asked() {
    let capture = ThreadCapture::start(tracing::Level::DEBUG);

    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    // Callsites other tests reached before this test's subscriber existed: decide again.
    tracing::callsite::rebuild_interest_cache();
    capture.take();

    // Not asked: no body.
    let quiet = within(client.create_ledger_entry_and_wait("quiet-body-marker", None))
        .await
        .unwrap();
    let output = capture.take();
    let lines = client_lines(&output);
    assert!(!lines.is_empty(), "{output}");
    assert!(!output.contains("quiet-body-marker"), "{output}");
    assert!(
        lines.iter().any(|l| l
            .contains("ledger_call{method=\"create_ledger_entry\" client_request_id=")
            && l.contains(&format!("transaction_id={}", quiet.transaction_id))),
        "{output}"
    );

    // Asked by the call: its bodies, request and response, are logged at DEBUG.
    let options = CreateLedgerEntryOptions::new().logging_enable(true);
    let loud = within(client.create_ledger_entry_and_wait("loud-body-marker", Some(options)))
        .await
        .unwrap();
    let output = capture.take();
    assert!(
        client_lines(&output)
            .iter()
            .any(|l| l.contains("loud-body-marker") && l.contains("request")),
        "{output}"
    );
    assert!(
        client_lines(&output).iter().any(|l| l.contains("response body")
            && l.contains(r#"{"collectionId":"subledger:0"}"#)),
        "the response body: {output}"
    );

    // A call about a transaction carries its id in its span from the start.
    let options = GetLedgerEntryOptions::new().logging_enable(true);
    within(client.get_ledger_entry(loud.transaction_id, Some(options)))
        .await
        .unwrap();
    let output = capture.take();
    let span = format!(
        "ledger_call{{method=\"get_ledger_entry\" transaction_id={} client_request_id=",
        loud.transaction_id
    );
    let lines = client_lines(&output);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&span) && l.contains("request")),
        "{output}"
    );
    assert!(
        lines.iter().any(|l| l.contains("Loading")),
        "the Loading body: {output}"
    );
    // Credentials never: the admin authenticates with its certificate, and no header or
    // key material is shown.
    assert!(!output.contains("PRIVATE KEY"), "{output}");
}

//! A program written the way the Azure SDK for Rust documents its clients, run against the
//! sandbox: the credential is an `Arc<dyn azure_core::credentials::TokenCredential>` (here a
//! small credential implementing `azure_core`'s trait that hands out the sandbox's token, since
//! `azure_identity`'s need Entra ID), options are struct literals ending in
//! `..Default::default()`, and transaction ids are `&str`. It writes, waits for the commit,
//! reads, lists, and gets and verifies a receipt.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::time::OffsetDateTime;
use confidential_ledger::client::{
    CallOptions, ClientOptions, CreateLedgerEntryOptions, GetLedgerEntryOptions, GetReceiptOptions,
    GetVerifiedReceiptOptions, ListLedgerEntriesOptions, WaitForCommitOptions,
};
use confidential_ledger::receipt::VerifyOptions;
use confidential_ledger::{ConfidentialLedgerClient, DEFAULT_SCOPE, ErrorKind};
use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use futures::TryStreamExt;

/// The longest any step may take before the test fails (a hang).
const STEP: Duration = Duration::from_secs(30);

/// An `azure_core` credential handing out one token, counting the requests for it and
/// recording the scopes asked for.
#[derive(Debug)]
struct SandboxTokenCredential {
    token: String,
    calls: AtomicUsize,
    scopes: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl TokenCredential for SandboxTokenCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut seen) = self.scopes.lock() {
            seen.extend(scopes.iter().map(|s| (*s).to_owned()));
        }
        Ok(AccessToken::new(
            Secret::new(self.token.clone()),
            OffsetDateTime::now_utc() + Duration::from_secs(3600),
        ))
    }
}

async fn within<F: std::future::IntoFuture>(future: F) -> F::Output {
    tokio::time::timeout(STEP, future.into_future())
        .await
        .expect("the step did not finish in time")
}

#[tokio::test]
async fn a_program_in_the_style_of_the_azure_sdk_runs_against_the_sandbox() {
    let sandbox = within(Sandbox::start(SandboxOptions::for_tests()))
        .await
        .expect("the sandbox starts");
    let oid = "7f3e2a10-0000-4000-8000-00000000a2b1";
    within(sandbox.add_user(oid, &["Contributor"]))
        .await
        .expect("the user is added");
    let entra = Arc::new(SandboxTokenCredential {
        token: sandbox.mint_token(oid),
        calls: AtomicUsize::new(0),
        scopes: std::sync::Mutex::new(Vec::new()),
    });

    // --- As the Azure SDK documents it ---------------------------------------------------
    let credential: Arc<dyn TokenCredential> = entra.clone();
    let client = within(
        ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
            .identity_endpoint(sandbox.identity_endpoint())
            .identity_root_certificate_pem(sandbox.identity_ca_certificate_pem())
            .ledger_id(sandbox.ledger_id())
            .credential(credential)
            .options(ClientOptions {
                application_id: Some("azure-sdk-style".into()),
                ..Default::default()
            })
            .build(),
    )
    .await
    .expect("the client builds");

    let written = within(client.create_ledger_entry(
        "hello from an azure_core credential",
        Some(CreateLedgerEntryOptions {
            collection_id: Some("orders".into()),
            ..Default::default()
        }),
    ))
    .await
    .expect("the entry is written");
    let transaction_id: String = written.transaction_id.to_string();
    let transaction_id: &str = &transaction_id;

    within(client.wait_for_commit(
        transaction_id,
        Some(WaitForCommitOptions {
            timeout: Some(Duration::from_secs(20)),
            ..Default::default()
        }),
    ))
    .await
    .expect("the entry commits");

    let entry = within(client.get_ledger_entry(
        transaction_id,
        Some(GetLedgerEntryOptions {
            collection_id: Some("orders".into()),
            ..Default::default()
        }),
    ))
    .await
    .expect("the entry is read");
    assert_eq!(entry.contents, "hello from an azure_core credential");
    assert_eq!(entry.transaction_id.to_string(), transaction_id);

    let listed: Vec<_> = within(
        client
            .list_ledger_entries(Some(ListLedgerEntriesOptions {
                collection_id: Some("orders".into()),
                from_transaction_id: Some(transaction_id.into()),
                to_transaction_id: Some(transaction_id.into()),
                call: CallOptions {
                    call_timeout: Some(Duration::from_secs(20)),
                    ..Default::default()
                },
                ..Default::default()
            }))
            .try_collect(),
    )
    .await
    .expect("the entries are listed");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].contents, "hello from an azure_core credential");

    let receipt = within(client.get_receipt(
        transaction_id,
        Some(GetReceiptOptions {
            timeout: Some(Duration::from_secs(20)),
            ..Default::default()
        }),
    ))
    .await
    .expect("the receipt is fetched");
    let verified = client
        .verify_receipt(
            &receipt,
            Some(VerifyOptions {
                transaction_id: Some(transaction_id.into()),
                ..Default::default()
            }),
        )
        .expect("the receipt verifies");
    assert_eq!(verified.transaction_id.as_deref(), Some(transaction_id));

    let proof = within(client.get_verified_receipt(
        transaction_id,
        Some(GetVerifiedReceiptOptions {
            ..Default::default()
        }),
    ))
    .await
    .expect("the receipt is fetched and verified");
    assert_eq!(proof.verified.root, verified.root);

    // A receipt checked against another transaction fails, with the id given as text.
    let err = client
        .verify_receipt(
            &receipt,
            Some(VerifyOptions {
                transaction_id: Some("1.1".into()),
                ..Default::default()
            }),
        )
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidReceipt, "{err}");

    // -------------------------------------------------------------------------------------
    // The azure_core credential was what authenticated the calls, for the ledger's scope.
    assert!(entra.calls.load(Ordering::SeqCst) >= 1);
    let scopes = entra.scopes.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        !scopes.is_empty() && scopes.iter().all(|s| s == DEFAULT_SCOPE),
        "{scopes:?}"
    );
    sandbox.shutdown().await;
}

/// What `azure_identity` constructors return (`Arc<SomeCredential>`) goes to `.credential(..)`
/// once it is an `Arc<dyn TokenCredential>`, exactly as with the Azure SDK's own clients; no
/// token is asked for until a call is made, so this needs no network.
#[test]
fn an_azure_identity_credential_is_accepted_as_it_is() {
    let credential: Arc<dyn TokenCredential> =
        azure_identity::DeveloperToolsCredential::new(None).expect("the credential is made");
    let builder =
        ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
            .credential(credential);
    let shown = format!("{builder:?}");
    assert!(shown.contains("token credential"), "{shown}");
}

//! The blocking twin (feature `blocking`) against in-process sandboxes: operations of every
//! kind, pollers (wait, progress, timeouts, stepping), pagers as iterators, errors, the
//! behaviour inside an async runtime, panics on the runtime thread, and a check that every
//! async method has a twin with the same name and arguments.

// The deprecated legacy user calls (`get_user`, `create_or_update_user`, ...) are exercised on
// purpose: they must keep working on the api-versions that serve them.
#![allow(deprecated)]

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use confidential_ledger::blocking::{ConfidentialLedgerClient, IdentityServiceClient};
use confidential_ledger::client::{
    CreateLedgerEntryOptions, ListLedgerEntriesOptions, ListTagsOptions, WaitForCommitOptions,
};
use confidential_ledger::models::{LedgerRole, QueryState, TransactionState, UserDefinedRole};
use confidential_ledger::poller::PollingOptions;
use confidential_ledger::tls::PinnedCertificate;
use confidential_ledger::{
    AccessToken, CertificateCredential, ClientOptions, CredentialError, ErrorKind,
    StaticTokenCredential, TokenCredential,
};
use confidential_ledger_sandbox::{Sandbox, SandboxOptions};

const OID: &str = "0f6b1e29-2222-4000-8000-000000000002";

/// A sandbox on a tokio runtime of its own; the test thread stays outside any runtime, as a
/// blocking program's would.
struct Ledger {
    sandbox: Option<Sandbox>,
    tokio: tokio::runtime::Runtime,
}

impl Ledger {
    fn start(options: SandboxOptions) -> Ledger {
        let tokio = tokio::runtime::Runtime::new().expect("a tokio runtime");
        let sandbox = tokio
            .block_on(Sandbox::start(options))
            .expect("the sandbox starts");
        Ledger {
            sandbox: Some(sandbox),
            tokio,
        }
    }

    fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().expect("running")
    }

    fn builder(&self) -> confidential_ledger::blocking::ClientBuilder {
        let sandbox = self.sandbox();
        let mut options = ClientOptions::default();
        options.retry.initial_delay = Duration::from_millis(5);
        options.wait_timeout = Some(Duration::from_secs(30));
        ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
            .identity_endpoint(sandbox.identity_endpoint())
            .identity_root_certificate_pem(sandbox.identity_ca_certificate_pem())
            .ledger_id(sandbox.ledger_id())
            .options(options)
    }

    fn admin(&self) -> ConfidentialLedgerClient {
        let sandbox = self.sandbox();
        let certificate = CertificateCredential::from_pem_parts(
            sandbox.admin_certificate_pem(),
            sandbox.admin_private_key_pem(),
        )
        .expect("the admin certificate loads");
        self.builder()
            .certificate_credential(certificate)
            .build()
            .expect("the admin client builds")
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            self.tokio.block_on(sandbox.shutdown());
        }
    }
}

#[test]
fn operations_of_every_kind_forward_to_the_async_client() {
    let ledger = Ledger::start(SandboxOptions::for_tests());
    let client = ledger.admin();
    assert_eq!(client.ledger_id(), "sandbox");
    assert_eq!(
        client.service_certificate(),
        PinnedCertificate::from_pem(ledger.sandbox().service_certificate_pem()).unwrap()
    );

    // Write, wait, read back.
    let options = CreateLedgerEntryOptions::new()
        .collection_id("audit")
        .tags(["login"]);
    let written = client
        .create_ledger_entry_and_wait("alice logged in", Some(options))
        .unwrap();
    assert_eq!(written.collection_id, "audit");
    let status = client
        .get_transaction_status(written.transaction_id.to_string(), None)
        .unwrap();
    assert_eq!(status.state, TransactionState::Committed);
    let current = client
        .get_current_ledger_entry(Some(
            confidential_ledger::client::GetCurrentLedgerEntryOptions::new().collection_id("audit"),
        ))
        .unwrap();
    assert_eq!(
        (current.contents.as_str(), current.transaction_id),
        ("alice logged in", written.transaction_id)
    );
    let entry = client
        .get_ledger_entry(
            written.transaction_id,
            Some(confidential_ledger::client::GetLedgerEntryOptions::new().collection_id("audit")),
        )
        .wait()
        .unwrap();
    assert_eq!(entry, current);

    // Receipts: fetched and verified in one call, or fetched then verified offline.
    let proof = client
        .get_verified_receipt(written.transaction_id, None)
        .unwrap();
    assert_eq!(
        proof.verified.transaction_id,
        Some(written.transaction_id.to_string())
    );
    let receipt = client
        .get_receipt(written.transaction_id, None)
        .wait()
        .unwrap();
    let verified = client.verify_receipt(&receipt, None).unwrap();
    assert_eq!(verified.root, proof.verified.root);

    // Collections and tags.
    let collections: Vec<String> = client
        .list_collections(None)
        .map(|c| c.unwrap().collection_id)
        .collect();
    assert!(collections.contains(&"audit".to_owned()), "{collections:?}");
    let tags: Vec<String> = client
        .list_tags(Some(ListTagsOptions::new().collection_id("audit")))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tags, ["login"]);

    // Governance.
    let constitution = client.get_constitution(None).unwrap();
    assert!(constitution.digest_matches());
    let quotes = client.get_enclave_quotes(None).unwrap();
    assert!(quotes.enclave_quotes.contains_key(&quotes.current_node_id));
    let members = client.list_consortium_members(None).count();
    assert!(members >= 1);

    // Users and roles.
    let user = client
        .create_or_update_ledger_user(OID, &[LedgerRole::Reader], None)
        .unwrap();
    assert_eq!(user.assigned_roles, [LedgerRole::Reader]);
    assert_eq!(
        client.get_ledger_user(OID, None).unwrap().assigned_roles,
        [LedgerRole::Reader]
    );
    let ids: Vec<String> = client
        .list_ledger_users(None)
        .map(|u| u.unwrap().user_id)
        .collect();
    assert!(ids.contains(&OID.to_owned()), "{ids:?}");
    client.delete_ledger_user(OID, None).unwrap();
    assert_eq!(
        client.get_ledger_user(OID, None).unwrap_err().kind(),
        &ErrorKind::NotFound
    );
    let auditor = UserDefinedRole::new("Auditor", ["/content/read"]);
    client
        .create_user_defined_role(std::slice::from_ref(&auditor), None)
        .unwrap();
    assert_eq!(
        client.get_user_defined_role("Auditor", None).unwrap(),
        auditor
    );
    client.delete_user_defined_role("Auditor", None).unwrap();

    // The pinned certificate did not change; the identity service agrees.
    assert!(!client.refresh_service_certificate().unwrap());
    let roots = confidential_ledger::identity::IdentityRoots::new()
        .add_pem(ledger.sandbox().identity_ca_certificate_pem())
        .unwrap();
    let identity =
        IdentityServiceClient::with_roots(ledger.sandbox().identity_endpoint(), None, &roots)
            .unwrap();
    let published = identity.get_ledger_identity("sandbox", None).unwrap();
    assert_eq!(
        published.pinned_certificate().unwrap(),
        client.service_certificate()
    );

    // Clones share the runtime thread and run concurrently.
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let client = client.clone();
            std::thread::spawn(move || client.create_ledger_entry(format!("w{i}"), None))
        })
        .collect();
    for writer in writers {
        writer.join().unwrap().unwrap();
    }
}

#[test]
fn pollers_wait_report_progress_step_and_time_out() {
    let ledger = Ledger::start(SandboxOptions::for_tests().loading_responses(3));
    let client = ledger.admin();

    // Each transaction's first historical reads (entry or receipt) answer Loading three times.
    let fast = PollingOptions::fixed(Duration::from_millis(5));
    let written = client
        .begin_create_ledger_entry("hello", None)
        .unwrap()
        .wait()
        .unwrap();
    let second = client
        .create_ledger_entry_and_wait("hello again", None)
        .unwrap();
    let third = client
        .create_ledger_entry_and_wait("and again", None)
        .unwrap();

    // on_progress runs on the waiting thread for each poll that did not finish the wait.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let waiter = std::thread::current().id();
    let entry = client
        .get_ledger_entry(written.transaction_id, None)
        .with_polling(fast.clone())
        .on_progress(move |update| {
            assert_eq!(std::thread::current().id(), waiter);
            log.lock()
                .unwrap()
                .push((update.status.clone(), update.polls));
        })
        .wait()
        .unwrap();
    assert_eq!(entry.contents, "hello");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (Some(QueryState::Loading), 1),
            (Some(QueryState::Loading), 2),
            (Some(QueryState::Loading), 3)
        ]
    );

    // progress() is an iterator another thread reads while this one waits.
    let poller = client
        .get_receipt(third.transaction_id, None)
        .with_polling(fast.clone());
    assert_eq!(poller.transaction_id(), Some(third.transaction_id));
    let progress = poller.progress();
    let watcher = std::thread::spawn(move || progress.map(|u| u.polls).collect::<Vec<_>>());
    let receipt = poller.wait().unwrap();
    assert_eq!(receipt.transaction_id, third.transaction_id);
    let polls = watcher.join().unwrap();
    assert!(!polls.is_empty() && polls.len() <= 3, "{polls:?}");
    assert_eq!(polls.last(), Some(&3));

    // poll_once steps by hand.
    let mut poller = client
        .get_ledger_entry(second.transaction_id, None)
        .with_polling(fast);
    let mut pending = 0;
    let entry = loop {
        if let Some(entry) = poller.poll_once().unwrap() {
            break entry;
        }
        pending += 1;
        assert_eq!(poller.status(), Some(&QueryState::Loading));
        assert_eq!(poller.polls(), pending);
        std::thread::sleep(poller.next_delay());
    };
    assert_eq!((entry.contents.as_str(), pending), ("hello again", 3));

    // A malformed id fails the wait without a request, naming the operation.
    let err = client.wait_for_commit("2.x", None).wait().unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput);
    assert_eq!(err.operation(), Some("wait_for_commit"));
}

#[test]
fn a_commit_that_does_not_come_times_out_with_progress_reported() {
    // No signature for an hour: writes stay Pending.
    let ledger = Ledger::start(
        SandboxOptions::for_tests()
            .signature_interval(Duration::from_secs(3600))
            .signature_every(1_000_000),
    );
    let client = ledger.admin();
    let written = client.create_ledger_entry("never committed", None).unwrap();
    let updates = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&updates);
    let options = WaitForCommitOptions::new()
        .polling(PollingOptions::fixed(Duration::from_millis(10)))
        .timeout(Duration::from_millis(300));
    let err = client
        .wait_for_commit(written.transaction_id, Some(options))
        .on_progress(move |update| log.lock().unwrap().push(update.status.clone()))
        .wait()
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Timeout, "{err}");
    let updates = updates.lock().unwrap();
    assert!(!updates.is_empty());
    assert!(
        updates
            .iter()
            .all(|s| s.as_ref() == Some(&TransactionState::Pending)),
        "{updates:?}"
    );

    // with_timeout on the poller replaces the option.
    let err = client
        .wait_for_commit(written.transaction_id, None)
        .with_timeout(Duration::from_millis(50))
        .wait()
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

#[test]
fn pagers_are_iterators_of_items_and_of_pages() {
    let ledger = Ledger::start(SandboxOptions::for_tests().page_size(3));
    let client = ledger.admin();
    let mut ids = Vec::new();
    for i in 0..8 {
        let options = CreateLedgerEntryOptions::new().collection_id("c");
        ids.push(
            client
                .create_ledger_entry(format!("m{i}"), Some(options))
                .unwrap()
                .transaction_id,
        );
    }
    client.wait_for_commit(ids[7], None).wait().unwrap();

    let all = || ListLedgerEntriesOptions::new().collection_id("c");
    let contents: Vec<String> = client
        .list_ledger_entries(Some(all()))
        .map(|e| e.unwrap().contents)
        .collect();
    assert_eq!(
        contents,
        (0..8).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );

    let sizes: Vec<usize> = client
        .list_ledger_entries(Some(all()))
        .into_pages()
        .map(|p| p.unwrap().items().len())
        .collect();
    assert_eq!(sizes, [3, 3, 2]);

    // A range, and where to resume after taking some.
    let range = all().from_transaction_id(ids[2]).to_transaction_id(ids[5]);
    let mut pager = client.list_ledger_entries(Some(range));
    let first: Vec<String> = pager
        .by_ref()
        .take(2)
        .map(|e| e.unwrap().contents)
        .collect();
    assert_eq!(first, ["m2", "m3"]);
    assert!(pager.continuation().is_some());
    let rest: Vec<String> = pager.map(|e| e.unwrap().contents).collect();
    assert_eq!(rest, ["m4", "m5"]);

    // A bad range is refused before any request: one error, then the end.
    let backwards = all().from_transaction_id(ids[5]).to_transaction_id(ids[2]);
    let mut pager = client.list_ledger_entries(Some(backwards));
    let err = pager.next().unwrap().unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput);
    assert!(pager.next().is_none());
}

#[test]
fn errors_are_the_async_clients() {
    let ledger = Ledger::start(SandboxOptions::for_tests());
    let admin = ledger.admin();

    // A principal that is not a ledger user: 403 NotAllowed, with the hint.
    let stranger = ledger
        .builder()
        .credential(StaticTokenCredential::new(
            ledger.sandbox().mint_token("stranger"),
        ))
        .build()
        .unwrap();
    let err = stranger.create_ledger_entry("x", None).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Forbidden { .. }), "{err}");
    assert_eq!(err.error_code(), Some("NotAllowed"));
    assert!(
        err.to_string().contains("create_or_update_ledger_user"),
        "{err}"
    );

    // Malformed input, refused before sending, named after the operation.
    let err = admin.get_transaction_status("2.x", None).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput);
    assert_eq!(err.operation(), Some("get_transaction_status"));
    let err = admin.get_verified_receipt("nope", None).unwrap_err();
    assert_eq!(err.operation(), Some("get_verified_receipt"));

    // A transaction the ledger never issued.
    let err = admin.get_ledger_entry("99.99999", None).wait().unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // The legacy user calls on a newer api-version: 301 ApiVersionRedirect.
    let err = admin
        .create_or_update_user(OID, LedgerRole::Reader, None)
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ApiVersionRedirect, "{err}");

    // Building without a credential, unless asked for an anonymous client.
    let err = ledger.builder().build().unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Credential, "{err}");

    // Building against a ledger id the identity service does not know.
    let err = ledger
        .builder()
        .anonymous()
        .ledger_id("unknown")
        .build()
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[test]
fn inside_an_async_runtime_calls_panic_before_sending_and_spawn_blocking_works() {
    let ledger = Ledger::start(SandboxOptions::for_tests());
    let client = ledger.admin();

    let inside = client.clone();
    let outcome = ledger.tokio.block_on(async move {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            inside.create_ledger_entry("from an async context", None)
        }))
    });
    let panic = outcome.expect_err("a blocking call inside a runtime panics");
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(
        message.contains("Cannot block the current thread from within a runtime"),
        "{message}"
    );
    // Nothing was written.
    let err = client.get_current_ledger_entry(None).unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // Building inside a runtime panics the same way.
    let builder = ledger.builder();
    let built = ledger.tokio.block_on(async move {
        std::panic::catch_unwind(AssertUnwindSafe(|| builder.build())).is_err()
    });
    assert!(built);

    // Accessors and offline checks work anywhere.
    let name = ledger.tokio.block_on({
        let client = client.clone();
        async move { client.ledger_id().to_owned() }
    });
    assert_eq!(name, "sandbox");

    // spawn_blocking is the way to call it from async code.
    let inside = client.clone();
    let task = ledger
        .tokio
        .spawn_blocking(move || inside.create_ledger_entry_and_wait("from spawn_blocking", None));
    let written = ledger.tokio.block_on(task).unwrap().unwrap();
    let current = client.get_current_ledger_entry(None).unwrap();
    assert_eq!(current.transaction_id, written.transaction_id);
}

/// A token credential with a bug: it panics.
#[derive(Debug)]
struct PanickingCredential;

#[async_trait]
impl TokenCredential for PanickingCredential {
    async fn get_token(&self, _scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        panic!("credential bug")
    }
}

#[test]
fn a_panic_on_the_runtime_thread_reaches_the_caller_and_the_client_stays_usable() {
    let ledger = Ledger::start(SandboxOptions::for_tests());
    let client = ledger
        .builder()
        .credential(PanickingCredential)
        .build()
        .unwrap();
    for _ in 0..2 {
        let panic =
            std::panic::catch_unwind(AssertUnwindSafe(|| client.get_current_ledger_entry(None)))
                .expect_err("the credential's panic reaches the caller");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"credential bug"));
    }
    // The runtime thread survived: other calls still run on it.
    assert!(!client.refresh_service_certificate().unwrap());
    assert!(matches!(
        client.get_transaction_status("x", None).unwrap_err().kind(),
        ErrorKind::InvalidInput
    ));
}

/// The public methods of `type_name`'s inherent impls in `files`, with their parameters as
/// text (`name: Type`), by method name.
fn methods(files: &[&str], type_name: &str) -> BTreeMap<String, Vec<String>> {
    use quote::ToTokens;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(root.join(file)).expect("a source file");
        let parsed = syn::parse_file(&text).expect("the source parses");
        for item in parsed.items {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            if block.trait_.is_some() {
                continue;
            }
            let syn::Type::Path(path) = &*block.self_ty else {
                continue;
            };
            if path.path.segments.last().map(|s| s.ident.to_string()) != Some(type_name.into()) {
                continue;
            }
            for item in block.items {
                let syn::ImplItem::Fn(method) = item else {
                    continue;
                };
                if !matches!(method.vis, syn::Visibility::Public(_)) {
                    continue;
                }
                let parameters = method
                    .sig
                    .inputs
                    .iter()
                    .filter_map(|input| match input {
                        syn::FnArg::Typed(typed) => Some(format!(
                            "{}: {}",
                            typed.pat.to_token_stream(),
                            typed.ty.to_token_stream()
                        )),
                        syn::FnArg::Receiver(_) => None,
                    })
                    .collect();
                found.insert(method.sig.ident.to_string(), parameters);
            }
        }
    }
    found
}

/// The `.rs` files under `dir` (relative to the crate), in its subdirectories too.
fn rust_files(dir: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(root.join(&dir)).expect("a source directory") {
            let entry = entry.expect("a directory entry");
            let path = format!("{dir}/{}", entry.file_name().to_string_lossy());
            if entry.file_type().expect("a file type").is_dir() {
                pending.push(path);
            } else if path.ends_with(".rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Checks that every public method of the async type has a blocking twin with the same
/// parameters (names and types), except `exceptions`.
fn assert_twins(
    async_files: &[&str],
    blocking_files: &[&str],
    type_name: &str,
    exceptions: &[&str],
) {
    let asynchronous = methods(async_files, type_name);
    let blocking = methods(blocking_files, type_name);
    assert!(asynchronous.len() >= 3, "{type_name}: {asynchronous:?}");
    for (name, parameters) in &asynchronous {
        if exceptions.contains(&name.as_str()) {
            assert!(
                !blocking.contains_key(name),
                "{type_name}::{name} is listed as an exception"
            );
            continue;
        }
        match blocking.get(name) {
            Some(twin) => assert_eq!(twin, parameters, "{type_name}::{name}: parameters differ"),
            None => panic!("{type_name}::{name} has no blocking twin"),
        }
    }
}

#[test]
fn every_async_method_has_a_blocking_twin_with_the_same_arguments() {
    let client_files = rust_files("src/client");
    let client_files: Vec<&str> = client_files.iter().map(String::as_str).collect();
    // `raw()` returns the generated async client: no blocking form (see `as_async`).
    assert_twins(
        &client_files,
        &["src/blocking/client.rs"],
        "ConfidentialLedgerClient",
        &["raw"],
    );
    assert_twins(
        &["src/client/builder.rs"],
        &["src/blocking/builder.rs"],
        "ClientBuilder",
        &[],
    );
    assert_twins(
        &["src/identity.rs"],
        &["src/blocking/identity.rs"],
        "IdentityServiceClient",
        &[],
    );
    // Awaiting is `wait()`; `into_poller` hands out the async machinery.
    assert_twins(
        &["src/client/polling.rs"],
        &["src/blocking/poller.rs"],
        "TransactionPoller",
        &["into_poller"],
    );
    // `new` and `resume` make pagers from fetch functions: async building blocks.
    assert_twins(
        &["src/pager/mod.rs"],
        &["src/blocking/pager.rs"],
        "Pager",
        &["new", "resume"],
    );
}

#[test]
fn exactly_once_writes_resolve_a_lost_answer_through_the_blocking_client() {
    let ledger = Ledger::start(SandboxOptions::for_tests());
    let client = ledger.admin();
    ledger.sandbox().faults().inject(
        "POST",
        "/app/transactions",
        1,
        confidential_ledger_sandbox::FaultAction::DropAfterProcessing,
    );
    let options = CreateLedgerEntryOptions::new()
        .collection_id("blocking-xo")
        .write_mode(confidential_ledger::options::WriteMode::ExactlyOnce);
    let written = client
        .create_ledger_entry_and_wait("applied, answer lost", Some(options))
        .expect("found by its marker");
    let entries: Vec<_> = client
        .list_ledger_entries(Some(
            ListLedgerEntriesOptions::new().collection_id("blocking-xo"),
        ))
        .collect::<Result<_, _>>()
        .expect("listed");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].transaction_id, written.transaction_id);
    assert_eq!(ledger.sandbox().faults().injected(), 1);
}

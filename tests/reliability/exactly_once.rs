//! Exactly-once writes and the write results of every mode, through the fault proxy and a
//! sandbox whose disk fills:
//!
//! - the happy path of exactly-once mode costs no request beyond the write itself;
//! - a `2xx` whose body is cut after the headers is a success with the transaction id of its
//!   headers, in every mode;
//! - an answer held after the write was applied (the client times out) is resolved by the
//!   lookup in exactly-once mode;
//! - concurrent writers while the sandbox's simulated disk fills and heals, then a restart: no
//!   write is in the ledger twice, and in exactly-once mode every write is acknowledged and
//!   present at its id.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confidential_ledger::client::{CreateLedgerEntryOptions, ListLedgerEntriesOptions};
use confidential_ledger::options::WriteMode;
use confidential_ledger::{ClientOptions, ConfidentialLedgerClient, StaticTokenCredential};
use confidential_ledger_sandbox::{Sandbox, SandboxOptions, StorageFault};
use faultproxy::{Fault, FaultPlan, FaultProxy, ProxyConfig, RequestFilter, Rule, TlsIdentity};
use futures::TryStreamExt;

use crate::support::{admin_certificate, builder_at, sandbox, token_for, within, within_for};

fn writes() -> RequestFilter {
    RequestFilter::any()
        .method("POST")
        .path_prefix("/app/transactions")
}

fn options(mode: WriteMode) -> ClientOptions {
    let mut options = crate::support::fast_options();
    options.write_mode = mode;
    options.exactly_once.settle_delay = Duration::from_millis(20);
    options.exactly_once.max_settle_delay = Duration::from_millis(500);
    options.call_timeout = Some(Duration::from_secs(30));
    options
}

async fn proxy(sandbox: &Sandbox, plan: FaultPlan) -> FaultProxy {
    let node = sandbox.node_tls_identity();
    FaultProxy::start(
        ProxyConfig::new(
            sandbox.ledger_endpoint(),
            TlsIdentity::new(node.certificate_chain_pem, node.private_key_pem),
            sandbox.service_certificate_pem(),
        )
        .plan(plan),
    )
    .await
    .expect("the proxy starts")
}

async fn client_through(
    sandbox: &Sandbox,
    proxy: &FaultProxy,
    options: ClientOptions,
) -> ConfidentialLedgerClient {
    let token = token_for(sandbox, "xo-writer", &["Contributor"]).await;
    within(
        builder_at(sandbox, &proxy.endpoint())
            .credential(StaticTokenCredential::new(token))
            .options(options)
            .build(),
    )
    .await
    .expect("the client builds")
}

/// `(contents, transaction id)` of the committed entries of `collection`, read from the
/// sandbox directly.
async fn entries(sandbox: &Sandbox, collection: &str) -> Vec<(String, String)> {
    let reader = crate::support::admin(sandbox).await;
    within(reader.create_ledger_entry_and_wait(
        "settle",
        Some(CreateLedgerEntryOptions::new().collection_id("settle")),
    ))
    .await
    .expect("the settling write commits");
    within(
        reader
            .list_ledger_entries(Some(
                ListLedgerEntriesOptions::new().collection_id(collection),
            ))
            .map_ok(|e| (e.contents, e.transaction_id.to_string()))
            .try_collect(),
    )
    .await
    .expect("the collection is listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_writes_cost_no_extra_request_on_the_happy_path() {
    let sandbox = sandbox().await;
    let proxy = proxy(&sandbox, FaultPlan::none()).await;
    let client = client_through(&sandbox, &proxy, options(WriteMode::ExactlyOnce)).await;
    let before = proxy.stats().requests;
    for i in 0..20 {
        let options = CreateLedgerEntryOptions::new().collection_id("happy");
        within(client.create_ledger_entry(format!("happy {i}"), Some(options)))
            .await
            .unwrap();
    }
    let requests = proxy.stats().requests - before;
    assert_eq!(requests, 20, "one request per write, nothing else");
    assert!(
        proxy
            .events()
            .iter()
            .all(|e| e.method == "POST" && e.path.contains("tags=xo-")),
        "every request is a write carrying its marker"
    );
    assert_eq!(entries(&sandbox, "happy").await.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_body_is_a_success_with_the_id_of_its_headers_in_every_mode() {
    let sandbox = sandbox().await;
    let plan = FaultPlan::none().rule(Rule::at_each([0, 1], Fault::CutBody).matching(writes()));
    let proxy = proxy(&sandbox, plan).await;
    let mut ids = Vec::new();
    for (i, mode) in [WriteMode::AtMostOnce, WriteMode::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        let client = client_through(&sandbox, &proxy, options(mode)).await;
        let written = within(client.create_ledger_entry(
            format!("cut {i}"),
            Some(CreateLedgerEntryOptions::new().collection_id("cut")),
        ))
        .await
        .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(written.collection_id, "cut");
        ids.push((
            "cut ".to_owned() + &i.to_string(),
            written.transaction_id.to_string(),
        ));
    }
    assert_eq!(proxy.stats().cut_bodies, 2);
    assert_eq!(entries(&sandbox, "cut").await, ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_answer_is_resolved_by_the_lookup_in_exactly_once_mode() {
    let sandbox = sandbox().await;
    let plan = FaultPlan::none()
        .rule(Rule::at(0, Fault::HoldAfterForward(Duration::from_secs(2))).matching(writes()));
    let proxy = proxy(&sandbox, plan).await;
    let mut options = options(WriteMode::ExactlyOnce);
    options.request_timeout = Some(Duration::from_millis(500));
    let client = client_through(&sandbox, &proxy, options).await;
    let written = within(client.create_ledger_entry(
        "held",
        Some(CreateLedgerEntryOptions::new().collection_id("held")),
    ))
    .await
    .expect("found by its marker");
    assert_eq!(
        entries(&sandbox, "held").await,
        [("held".to_owned(), written.transaction_id.to_string())]
    );
    let posts = proxy.events().iter().filter(|e| e.method == "POST").count();
    assert_eq!(posts, 1, "found, not sent again");
}

/// Waits (bounded) until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// What the client said about one write.
#[derive(Debug, Clone)]
enum Said {
    Written(String),
    Unknown,
    Failed(String),
}

/// Concurrent writers through the client while the disk fills and heals, then a restart;
/// returns what the client said per contents and what the restarted ledger holds.
async fn disk_full_run(mode: WriteMode) -> (BTreeMap<String, Said>, HashMap<String, Vec<String>>) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox_options = || SandboxOptions::for_tests().data_dir(dir.path());
    let sandbox = Sandbox::start(sandbox_options()).await.expect("starts");
    let client = within(
        builder_at(&sandbox, &sandbox.ledger_endpoint())
            .certificate_credential(admin_certificate(&sandbox))
            .options(options(mode))
            .build(),
    )
    .await
    .expect("the client builds");
    let said: Arc<Mutex<BTreeMap<String, Said>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, said, stop) = (client.clone(), said.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let contents = format!("writer {w} entry {i}");
                let outcome = match client.create_ledger_entry(contents.clone(), None).await {
                    Ok(written) => Said::Written(written.transaction_id.to_string()),
                    Err(e) if e.is_outcome_unknown() => Said::Unknown,
                    Err(e) => Said::Failed(e.to_string()),
                };
                said.lock().unwrap().insert(contents, outcome);
                i += 1;
            }
        }));
    }
    let written = || {
        said.lock()
            .unwrap()
            .values()
            .filter(|s| matches!(s, Said::Written(_)))
            .count()
    };
    for _ in 0..3 {
        let before = written();
        until("acknowledged writes", || written() >= before + 60).await;
        let failed = sandbox.storage_faults().failed_operations();
        sandbox.storage_faults().set(Some(StorageFault::DiskFull));
        until("failed appends", || {
            sandbox.storage_faults().failed_operations() >= failed + 5
        })
        .await;
        sandbox.storage_faults().set(None);
    }
    let before = written();
    until("writes after healing", || written() >= before + 60).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        within_for(Duration::from_secs(60), w)
            .await
            .expect("a writer panicked");
    }
    sandbox.shutdown().await;

    let restarted = Sandbox::start(sandbox_options()).await.expect("restarts");
    let reader = crate::support::admin(&restarted).await;
    let mut present: HashMap<String, Vec<String>> = HashMap::new();
    let listed: Vec<_> = within(reader.list_ledger_entries(None).try_collect::<Vec<_>>())
        .await
        .expect("listed");
    for entry in listed {
        present
            .entry(entry.contents)
            .or_default()
            .push(entry.transaction_id.to_string());
    }
    restarted.shutdown().await;
    let said = said.lock().unwrap().clone();
    (said, present)
}

/// Prints the table (outcome × present once / absent / more) and checks what holds in every
/// mode: nothing twice, every acknowledged write at its id.
fn check_disk_full(
    mode: WriteMode,
    said: &BTreeMap<String, Said>,
    present: &HashMap<String, Vec<String>>,
) -> [[u64; 3]; 3] {
    let mut table = [[0u64; 3]; 3];
    for (contents, outcome) in said {
        let ids = present.get(contents).map(Vec::as_slice).unwrap_or_default();
        assert!(ids.len() <= 1, "{contents} is in the ledger twice: {ids:?}");
        let row = match outcome {
            Said::Written(id) => {
                assert_eq!(
                    ids,
                    std::slice::from_ref(id),
                    "acknowledged {contents} lost"
                );
                0
            }
            Said::Unknown => 1,
            Said::Failed(why) => {
                println!("  {contents}: {why}");
                2
            }
        };
        let column = match ids.len() {
            1 => 0,
            0 => 1,
            _ => 2,
        };
        table[row][column] += 1;
    }
    for (contents, ids) in present {
        assert_eq!(ids.len(), 1, "{contents} duplicated at {ids:?}");
        assert!(
            said.contains_key(contents),
            "an entry nobody wrote: {contents}"
        );
    }
    println!(
        "disk full x3 under 8 writers through the client, {mode:?}, then a restart:\n\
         \x20 | client's outcome | present once | absent | present more than once |\n\
         \x20 |---|---|---|---|\n\
         \x20 | written (id returned) | {} | {} | {} |\n\
         \x20 | OutcomeUnknown | {} | {} | {} |\n\
         \x20 | other error | {} | {} | {} |",
        table[0][0],
        table[0][1],
        table[0][2],
        table[1][0],
        table[1][1],
        table[1][2],
        table[2][0],
        table[2][1],
        table[2][2],
    );
    table
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filling_disk_duplicates_nothing_and_exactly_once_mode_loses_nothing() {
    let (said, present) = disk_full_run(WriteMode::ExactlyOnce).await;
    let table = check_disk_full(WriteMode::ExactlyOnce, &said, &present);
    let failures: Vec<_> = said
        .iter()
        .filter(|(_, s)| !matches!(s, Said::Written(_)))
        .collect();
    assert!(
        failures.is_empty(),
        "every write acknowledged: {failures:?}"
    );
    assert_eq!(table[0][0] as usize, said.len());

    let (said, present) = disk_full_run(WriteMode::AtMostOnce).await;
    let table = check_disk_full(WriteMode::AtMostOnce, &said, &present);
    assert!(
        table[1][1] > 0,
        "the refused writes were reported unknown (and are absent)"
    );
    let failures: Vec<_> = said
        .iter()
        .filter(|(_, s)| matches!(s, Said::Failed(_)))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
}

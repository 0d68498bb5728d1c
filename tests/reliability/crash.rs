//! The sandbox binary killed with SIGKILL, again and again, while the client writes and waits
//! for commits; restarted each time on the same port and data directory.
//!
//! Two clients (one with the administrator's client certificate, one with a bearer token),
//! built once and never rebuilt, run eight writers that each write unique contents and wait for
//! the commit. At seeded moments (after a seeded number of further commits, plus a seeded
//! pause) the sandbox process is killed with SIGKILL and started again. The clients resume on
//! their own: requests that find nothing listening are retried (nothing was sent), writes cut
//! off mid-flight come back as `OutcomeUnknown`, and pollers retry their reads.
//!
//! After the last restart:
//! - every write the client reported committed is present, exactly once, with its contents at
//!   its transaction id; writes it reported written but whose commit wait was cut off commit
//!   after the restart and are present too;
//! - every `OutcomeUnknown` write is present at most once, refused writes are absent, nothing
//!   else is present;
//! - receipts fetched before the first crash still verify against the service certificate
//!   taken before the first crash, and the ledger serves the same receipts again;
//! - receipts for the first and last committed write of every epoch (between two crashes)
//!   verify: the Merkle tree is intact across every restart;
//! - the service certificate did not change, and every epoch has commits made by the same
//!   client instances (they resumed after every restart).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confidential_ledger::client::CreateLedgerEntryOptions;
use confidential_ledger::receipt::{ReceiptVerifier, VerifyOptions};
use confidential_ledger::{
    CertificateCredential, ConfidentialLedgerClient, ErrorKind, StaticTokenCredential,
    TransactionId,
};
use confidential_ledger_sandbox::{TokenSpec, mint_token_in};
use futures::TryStreamExt;

use crate::sandbox_process::{SandboxProcess, free_port};
use crate::support::{Seeded, within, within_for};

const SEED: u64 = 0xc4a5_4e55;
const KILLS: usize = 5;
const WRITERS: usize = 8;

/// What the writers learnt.
#[derive(Default)]
struct Outcomes {
    /// Committed: (transaction id, contents, epoch it was committed in).
    committed: Vec<(TransactionId, String, usize)>,
    /// Written (the ledger answered with a transaction id) but the commit wait failed.
    written: Vec<(TransactionId, String, String)>,
    /// `OutcomeUnknown`.
    unknown: Vec<String>,
    /// Refused before being sent (the retries ran out while the sandbox was down).
    refused: Vec<(String, String)>,
    /// Anything else.
    unexpected: Vec<String>,
}

struct Shared {
    outcomes: Mutex<Outcomes>,
    epoch: AtomicUsize,
    stop: AtomicBool,
    next: AtomicUsize,
}

impl Shared {
    fn committed(&self) -> usize {
        self.outcomes.lock().unwrap().committed.len()
    }
}

async fn write_until_stopped(client: ConfidentialLedgerClient, writer: usize, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let n = shared.next.fetch_add(1, Ordering::SeqCst);
        let contents = format!("crash-write-{n:06}-by-{writer}");
        match client
            .begin_create_ledger_entry(contents.clone(), None)
            .await
        {
            Ok(poller) => {
                let id = poller
                    .transaction_id()
                    .expect("a started write knows its id");
                let result = poller.await;
                let epoch = shared.epoch.load(Ordering::SeqCst);
                let mut outcomes = shared.outcomes.lock().unwrap();
                match result {
                    Ok(written) => {
                        assert_eq!(written.transaction_id, id);
                        outcomes.committed.push((id, contents, epoch));
                    }
                    Err(err) => outcomes.written.push((id, contents, err.to_string())),
                }
            }
            Err(err) if err.is_outcome_unknown() => {
                shared.outcomes.lock().unwrap().unknown.push(contents);
            }
            Err(err)
                if err.is_connect()
                    && matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout) =>
            {
                shared
                    .outcomes
                    .lock()
                    .unwrap()
                    .refused
                    .push((contents, err.to_string()));
            }
            Err(err) => shared
                .outcomes
                .lock()
                .unwrap()
                .unexpected
                .push(format!("{contents}: {:?}: {err}", err.kind())),
        }
    }
}

/// Waits until the writers have committed `target` writes in all.
async fn committed_reach(shared: &Shared, target: usize) {
    within_for(Duration::from_secs(60), async {
        while shared.committed() < target {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_committed_writes_loses_nothing_and_the_same_client_resumes() {
    let started = Instant::now();
    let mut rng = Seeded::new(SEED);
    let dir = tempfile::tempdir().expect("a data directory");
    let port = free_port(SEED);
    let mut process =
        SandboxProcess::start(dir.path(), port, &["--user", "crash-writer=Contributor"]);
    let service_pem = process.read("serviceCertificatePath");
    let endpoint = process.endpoint();
    let ledger_id = process.info["ledgerId"]
        .as_str()
        .expect("ledgerId")
        .to_owned();

    let mut options = crate::support::fast_options();
    // Retries that outlast a restart (a few hundred milliseconds) by far.
    options.retry.max_retries = 60;
    options.retry.initial_delay = Duration::from_millis(10);
    options.retry.max_delay = Duration::from_millis(100);
    options.connect_timeout = Some(Duration::from_secs(2));
    options.request_timeout = Some(Duration::from_secs(10));
    options.wait_timeout = Some(Duration::from_secs(60));
    let builder = ConfidentialLedgerClient::builder(&endpoint)
        .ledger_id(&ledger_id)
        .service_certificate_pem(&service_pem)
        .options(options);
    let certificate = CertificateCredential::from_pem_parts(
        process.read("adminCertificatePath"),
        process.read("adminPrivateKeyPath"),
    )
    .expect("the admin certificate loads");
    let by_certificate = within(builder.clone().certificate_credential(certificate).build())
        .await
        .expect("the certificate client builds");
    let token = mint_token_in(dir.path(), &TokenSpec::new("crash-writer")).expect("a token");
    let by_token = within(
        builder
            .credential(StaticTokenCredential::new(token))
            .build(),
    )
    .await
    .expect("the token client builds");

    let shared = Arc::new(Shared {
        outcomes: Mutex::default(),
        epoch: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        next: AtomicUsize::new(0),
    });
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let client = if w % 2 == 0 {
                by_certificate.clone()
            } else {
                by_token.clone()
            };
            tokio::spawn(write_until_stopped(client, w, Arc::clone(&shared)))
        })
        .collect();

    // Receipts of early writes, fetched before any crash.
    committed_reach(&shared, 40).await;
    let early: Vec<TransactionId> = {
        let outcomes = shared.outcomes.lock().unwrap();
        outcomes.committed.iter().take(10).map(|c| c.0).collect()
    };
    let mut early_receipts = Vec::new();
    for id in &early {
        let receipt = within(by_certificate.get_receipt(*id, None))
            .await
            .expect("an early receipt");
        by_certificate
            .verify_receipt(&receipt, None)
            .expect("an early receipt verifies");
        early_receipts.push(receipt);
    }

    let mut restarts = Vec::new();
    for _ in 0..KILLS {
        let target = shared.committed() + rng.range(150, 350) as usize;
        committed_reach(&shared, target).await;
        tokio::time::sleep(Duration::from_millis(rng.range(0, 40))).await;
        process.kill();
        shared.epoch.fetch_add(1, Ordering::SeqCst);
        let restart = Instant::now();
        process = tokio::task::spawn_blocking({
            let dir = dir.path().to_path_buf();
            move || SandboxProcess::start(&dir, port, &[])
        })
        .await
        .expect("the restart");
        restarts.push(restart.elapsed());
    }
    // The same clients carry on after the last restart.
    let target = shared.committed() + 200;
    committed_reach(&shared, target).await;
    shared.stop.store(true, Ordering::SeqCst);
    within(futures::future::join_all(writers))
        .await
        .into_iter()
        .for_each(|joined| joined.expect("a writer panicked"));
    let mut outcomes = std::mem::take(&mut *shared.outcomes.lock().unwrap());

    assert!(
        outcomes.unexpected.is_empty(),
        "unexpected errors: {:#?}",
        outcomes.unexpected
    );
    // Written but not seen committed: the commit wait was cut off by a crash. The sandbox
    // signs what it holds when it restarts, so they commit now.
    let written_then_committed = outcomes.written.len();
    for (id, contents, why) in std::mem::take(&mut outcomes.written) {
        within(by_token.wait_for_commit(id, None))
            .await
            .unwrap_or_else(|e| panic!("{id} ({why}) does not commit after the restart: {e}"));
        outcomes.committed.push((id, contents, KILLS));
    }

    // Everything, read back once all is committed.
    within(by_certificate.create_ledger_entry_and_wait(
        "settle",
        Some(CreateLedgerEntryOptions::new().collection_id("settle")),
    ))
    .await
    .expect("a settling write");
    let entries: Vec<_> = within(
        by_certificate
            .list_ledger_entries(None)
            .try_collect::<Vec<_>>(),
    )
    .await
    .expect("the collection is listed");
    let mut found: HashMap<String, Vec<TransactionId>> = HashMap::new();
    for entry in entries {
        found
            .entry(entry.contents)
            .or_default()
            .push(entry.transaction_id);
    }
    let mut expected = std::collections::HashSet::new();
    for (id, contents, _) in &outcomes.committed {
        assert_eq!(
            found.get(contents).map(Vec::as_slice),
            Some(&[*id][..]),
            "committed write {contents} at {id} must be there exactly once"
        );
        expected.insert(contents.clone());
    }
    let mut unknown_present = 0;
    for contents in &outcomes.unknown {
        let present = found.get(contents).map_or(0, Vec::len);
        assert!(present <= 1, "{contents} applied {present} times");
        unknown_present += present;
        expected.insert(contents.clone());
    }
    for (contents, why) in &outcomes.refused {
        assert!(
            !found.contains_key(contents),
            "{contents} was refused ({why}) but is in the ledger"
        );
    }
    for (contents, ids) in &found {
        assert!(
            expected.contains(contents),
            "an entry nobody wrote: {contents}"
        );
        assert_eq!(ids.len(), 1, "{contents} duplicated at {ids:?}");
    }

    // The service identity survived, and with it every receipt.
    assert_eq!(process.read("serviceCertificatePath"), service_pem);
    let independent = ReceiptVerifier::new(&service_pem).expect("a verifier");
    for old in &early_receipts {
        by_certificate
            .verify_receipt(old, None)
            .expect("a receipt from before the crashes verifies");
        independent
            .verify_response(&old.to_response(), &VerifyOptions::default())
            .expect("a receipt from before the crashes verifies against the old certificate");
        let again = within(by_certificate.get_receipt(old.transaction_id, None))
            .await
            .expect("the receipt again");
        assert_eq!(
            &again, old,
            "the ledger serves the same receipt after the crashes"
        );
    }
    let mut by_epoch: Vec<Vec<TransactionId>> = vec![Vec::new(); KILLS + 1];
    for (id, _, epoch) in &outcomes.committed {
        by_epoch[*epoch].push(*id);
    }
    let mut verified = early_receipts.len();
    for (epoch, ids) in by_epoch.iter_mut().enumerate() {
        assert!(
            !ids.is_empty(),
            "no commit in epoch {epoch}: the client did not resume"
        );
        ids.sort();
        for id in [ids[0], ids[ids.len() - 1]] {
            let proof = within(by_token.get_verified_receipt(id, None))
                .await
                .unwrap_or_else(|e| panic!("the receipt of {id} (epoch {epoch}): {e}"));
            independent
                .verify_response(&proof.receipt.to_response(), &VerifyOptions::default())
                .unwrap_or_else(|e| panic!("the receipt of {id} (epoch {epoch}): {e}"));
            verified += 1;
        }
    }
    let last = within(by_token.create_ledger_entry_and_wait("after the crashes", None))
        .await
        .expect("a write after everything");
    within(by_certificate.get_verified_receipt(last.transaction_id, None))
        .await
        .expect("its receipt verifies");

    println!(
        "crash test (seed {SEED:#x}, {WRITERS} writers, {KILLS} SIGKILLs) in {:.1} s: restarts took {:?}\n\
         \x20 writes started {} | committed {} (of which {} written before a crash and committed after it) | \
         outcome unknown {} (present {}, absent {}) | refused while down {}\n\
         \x20 commits per epoch {:?} | receipts verified {}",
        started.elapsed().as_secs_f64(),
        restarts,
        shared.next.load(Ordering::SeqCst),
        outcomes.committed.len(),
        written_then_committed,
        outcomes.unknown.len(),
        unknown_present,
        outcomes.unknown.len() - unknown_present,
        outcomes.refused.len(),
        by_epoch.iter().map(Vec::len).collect::<Vec<_>>(),
        verified,
    );
}

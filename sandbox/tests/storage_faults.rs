//! The storage-fault switch: a full disk, a failing fsync and a short write, under concurrent
//! writers. Nothing acknowledged is lost, nothing refused is applied, no transaction id is
//! handed out twice, and the sandbox heals when the fault is switched off.
//!
//! `cargo test -p confidential-ledger-sandbox --test storage_faults -- --nocapture` prints the
//! table of writes answered and present after a restart, by answer.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confidential_ledger_sandbox::{
    Sandbox, SandboxError, SandboxOptions, StorageFault, set_storage_fault_in,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Client, Tally, all_entries};

fn options(dir: &Path) -> SandboxOptions {
    SandboxOptions::for_tests().data_dir(dir)
}

/// One write and its answer.
#[derive(Clone, Debug)]
struct Answer {
    contents: String,
    status: StatusCode,
    code: String,
    txid: Option<String>,
}

/// Waits (bounded) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn count(answers: &Mutex<Vec<Answer>>, ok: bool) -> usize {
    answers
        .lock()
        .unwrap()
        .iter()
        .filter(|a| (a.status == StatusCode::OK) == ok)
        .count()
}

/// Checks every answer against what a restarted sandbox holds; returns the table.
async fn check_after_restart(dir: &Path, answers: &[Answer], title: &str) -> Tally {
    let s = Sandbox::start(options(dir)).await.unwrap();
    let admin = Client::admin(&s);
    let entries = all_entries(&admin, "subledger:0").await;
    let by_contents: BTreeMap<&str, &str> = entries
        .iter()
        .map(|(id, c)| (c.as_str(), id.as_str()))
        .collect();
    let ids: BTreeSet<&str> = entries.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids.len(),
        entries.len(),
        "a transaction id names two entries"
    );
    assert_eq!(
        by_contents.len(),
        entries.len(),
        "an entry is in the ledger twice"
    );
    let mut tally = Tally::default();
    let mut acknowledged = BTreeSet::new();
    for a in answers {
        let found = by_contents.get(a.contents.as_str()).copied();
        let answer = format!("{} {}", a.status.as_u16(), a.code);
        tally.count(&answer, found.is_some());
        match a.status.as_u16() {
            200 => {
                let id = a.txid.as_deref().expect("a 200 carries its id");
                assert_eq!(found, Some(id), "acknowledged write {} lost", a.contents);
                assert!(acknowledged.insert(id), "transaction id {id} issued twice");
            }
            503 => {
                assert_eq!(a.code, "StorageUnavailable", "{a:?}");
                assert_eq!(found, None, "refused write {} was applied", a.contents);
            }
            500 => assert_eq!(a.code, "InternalError", "{a:?}"),
            other => panic!("unexpected answer {other}: {a:?}"),
        }
    }
    // New ids after the restart are new.
    let next = admin.write("after the restart").await;
    assert!(!acknowledged.contains(next.as_str()), "{next} reissued");
    println!("{}", tally.table(title));
    s.shutdown().await;
    tally
}

async fn write(client: &Client, contents: String) -> Answer {
    let r = client
        .post("/app/transactions", json!({ "contents": contents }))
        .await;
    Answer {
        contents,
        status: r.status,
        code: if r.status == StatusCode::OK {
            String::new()
        } else {
            r.code().to_string()
        },
        txid: (r.status == StatusCode::OK)
            .then(|| r.txid.clone())
            .flatten(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_under_concurrent_writers_loses_nothing_and_applies_nothing_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    let client = Client::admin(&s);
    let answers: Arc<Mutex<Vec<Answer>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..16 {
        let (client, answers, stop) = (client.clone(), answers.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let a = write(&client, format!("writer {w} entry {i}")).await;
                answers.lock().unwrap().push(a);
                i += 1;
            }
        }));
    }
    let phases = [
        StorageFault::DiskFull,
        StorageFault::ShortWrite,
        StorageFault::DiskFull,
        StorageFault::FsyncFails,
        StorageFault::DiskFull,
    ];
    for fault in phases {
        let ok = count(&answers, true);
        until("acknowledged writes", || count(&answers, true) >= ok + 150).await;
        let failed = count(&answers, false);
        s.storage_faults().set(Some(fault));
        until("refused writes", || count(&answers, false) >= failed + 40).await;
        s.storage_faults().set(None);
    }
    let ok = count(&answers, true);
    until("writes after healing", || count(&answers, true) >= ok + 150).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let stats = s.storage_stats();
    assert!(
        stats.records > stats.syncs,
        "no batch of several records formed: {stats:?}"
    );
    println!(
        "group commit: {} records in {} synced batches; {} simulated storage failures",
        stats.records,
        stats.syncs,
        s.storage_faults().failed_operations()
    );
    assert!(s.storage_faults().failed_operations() >= phases.len() as u64);
    s.shutdown().await;

    let answers = answers.lock().unwrap().clone();
    let tally = check_after_restart(
        dir.path(),
        &answers,
        "Storage faults under 16 concurrent writers (disk-full x3, short-write, fsync-fails), then a restart:",
    )
    .await;
    assert!(tally.answered("503 StorageUnavailable") > 0);
    assert_eq!(tally.present("503 StorageUnavailable"), 0);
}

#[tokio::test]
async fn each_fault_is_answered_per_its_outcome_and_heals() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    let admin = Client::admin(&s);
    let mut answers = Vec::new();
    for (fault, status) in [
        (StorageFault::DiskFull, 503),
        (StorageFault::ShortWrite, 503),
        (StorageFault::FsyncFails, 500),
    ] {
        s.storage_faults().set(Some(fault));
        assert_eq!(s.storage_faults().current(), Some(fault));
        let a = write(&admin, format!("during {fault}")).await;
        assert_eq!(a.status.as_u16(), status, "{fault}: {a:?}");
        answers.push(a);
        // While the fault lasts, nothing is written at all: refused.
        let again = write(&admin, format!("again during {fault}")).await;
        assert_eq!(again.status, StatusCode::SERVICE_UNAVAILABLE, "{again:?}");
        answers.push(again);
        match s.append_entry("subledger:0", "direct").await {
            Err(SandboxError::Storage(_)) => {}
            other => panic!("{fault}: expected a storage error, got {other:?}"),
        }
        s.storage_faults().set(None);
        let healed = write(&admin, format!("after {fault}")).await;
        assert_eq!(healed.status, StatusCode::OK, "{healed:?}");
        admin.wait_committed(healed.txid.as_deref().unwrap()).await;
        answers.push(healed);
    }
    // Reads and receipts are unaffected, and the ledger moved on to new views.
    let last = answers.last().unwrap().txid.clone().unwrap();
    assert!(
        !last.starts_with("2."),
        "{last}: a refused write must start a new view"
    );
    let receipt = admin.receipt(&last).await;
    support::verify::verify(&receipt, &s.service_certificate_pem()).unwrap();
    s.shutdown().await;
    let tally = check_after_restart(dir.path(), &answers, "One write per fault:").await;
    assert_eq!(tally.present("500 InternalError"), 0);
}

#[test]
fn the_binary_starts_with_a_fault_and_a_subcommand_switches_it() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_confidential-ledger-sandbox");
    let data_dir = dir.path().to_str().unwrap();
    let mut child = Killed(
        Command::new(bin)
            .args(["--data-dir", data_dir, "--print-json", "--storage-fault"])
            .args(["disk-full", "--signature-interval-ms", "20"])
            // Stops with this test even if it fails (stdin is a pipe held in `child`).
            .arg("--stop-on-stdin-eof")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).expect("one JSON line");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let read = |k: &str| std::fs::read_to_string(info[k].as_str().unwrap()).unwrap();
        let client = Client::new(
            info["ledgerEndpoint"].as_str().unwrap(),
            &read("serviceCertificatePath"),
            Some((&read("adminCertificatePath"), &read("adminPrivateKeyPath"))),
        );
        let refused = write(&client, "refused".into()).await;
        assert_eq!(
            refused.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{refused:?}"
        );
        let out = Command::new(bin)
            .args(["storage-fault", "--data-dir", data_dir, "none"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let kept = write(&client, "kept".into()).await;
        assert_eq!(kept.status, StatusCode::OK, "{kept:?}");
        set_storage_fault_in(dir.path(), Some(StorageFault::ShortWrite))
            .await
            .unwrap();
        let cut = write(&client, "cut short".into()).await;
        assert_eq!(cut.status, StatusCode::SERVICE_UNAVAILABLE, "{cut:?}");
        let bad = Command::new(bin)
            .args(["storage-fault", "--data-dir", data_dir, "flood"])
            .output()
            .unwrap();
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("disk-full"));
    });
}

/// A child process killed when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_rotation_refused_by_a_full_disk_leaves_the_identity_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    let service = s.service_certificate_pem();
    s.storage_faults().set(Some(StorageFault::DiskFull));
    match s.rotate_service_identity().await {
        Err(SandboxError::Storage(_)) => {}
        other => panic!("expected a refused rotation, got {other:?}"),
    }
    s.storage_faults().set(None);
    assert_eq!(
        s.service_certificate_pem(),
        service,
        "the refused rotation left no trace"
    );
    // The old identity still serves TLS and signs receipts.
    let admin = Client::admin(&s);
    let id = admin.write("after the refused rotation").await;
    admin.wait_committed(&id).await;
    support::verify::verify(&admin.receipt(&id).await, &service).unwrap();
    // And a rotation on healthy storage works.
    s.rotate_service_identity().await.unwrap();
    assert_ne!(s.service_certificate_pem(), service);
    let rotated = s.service_certificate_pem();
    s.shutdown().await;
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    assert_eq!(s.service_certificate_pem(), rotated);
    let admin = Client::admin(&s);
    support::verify::verify(&admin.receipt(&id).await, &rotated).unwrap();
    s.shutdown().await;
}

//! Durability: restarts restore everything, a torn tail is cut off, corruption in the middle
//! refuses to start, and a kill -9 during concurrent writes loses no acknowledged write.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confidential_ledger_sandbox::{Sandbox, SandboxError, SandboxOptions, files};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::verify::verify;
use support::{Client, Tally, all_entries};

fn options(dir: &Path) -> SandboxOptions {
    SandboxOptions::for_tests().data_dir(dir)
}

#[tokio::test]
async fn restart_restores_entries_users_roles_identity_and_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    assert!(s.startup_report().created);
    let admin = Client::admin(&s);
    let mut ids = Vec::new();
    for i in 0..20 {
        let collection = if i % 2 == 0 { "a" } else { "b" };
        let r = admin
            .post(
                &format!(
                    "/app/transactions?collectionId={collection}&tags=t{}",
                    i % 3
                ),
                json!({ "contents": format!("v{i}") }),
            )
            .await;
        ids.push(r.txid.unwrap());
    }
    admin
        .patch(
            "/app/ledgerUsers/kept-oid",
            json!({ "assignedRoles": ["Reader"] }),
        )
        .await;
    admin.put("/app/roles", json!({ "roles": [{ "roleName": "r1", "roleActions": ["Microsoft.ConfidentialLedger/ledger/read"] }] })).await;
    admin
        .put(
            "/app/userDefinedFunctions/f1",
            json!({ "code": "export function main() {}" }),
        )
        .await;
    let last = admin.write("last").await;
    admin.wait_committed(&last).await;
    let receipts: Vec<Value> = {
        let mut v = Vec::new();
        for id in [&ids[0], &ids[7], &last] {
            v.push(admin.receipt(id).await);
        }
        v
    };
    let service = s.service_certificate_pem();
    let token = s.mint_token("kept-oid");
    let before = s.startup_report().transactions;
    s.shutdown().await;

    let s = Sandbox::start(options(dir.path())).await.unwrap();
    assert!(!s.startup_report().created);
    assert!(s.startup_report().transactions > before);
    assert_eq!(s.startup_report().truncated_bytes, 0);
    assert_eq!(
        s.service_certificate_pem(),
        service,
        "the identity survives"
    );
    let admin = Client::admin(&s);
    for (i, id) in ids.iter().enumerate() {
        let collection = if i % 2 == 0 { "a" } else { "b" };
        let (r, _) = admin
            .get_ready(&format!("/app/transactions/{id}?collectionId={collection}"))
            .await;
        assert_eq!(r.body["entry"]["contents"], format!("v{i}"));
    }
    assert_eq!(all_entries(&admin, "a").await.len(), 10);
    assert_eq!(
        admin.get("/app/collections/tags?collectionId=b").await.body,
        json!({ "tags": ["t0", "t1", "t2"] })
    );
    // Tokens minted before the restart still work: the token key is kept.
    let reader = Client::bearer(&s, token);
    assert_eq!(reader.get("/app/collections").await.status, StatusCode::OK);
    assert_eq!(
        admin.get("/app/roles?roleName=r1").await.status,
        StatusCode::OK
    );
    assert_eq!(
        admin.get("/app/userDefinedFunctions/f1").await.status,
        StatusCode::OK
    );
    for old in &receipts {
        let id = old["transactionId"].as_str().unwrap();
        let again = admin.receipt(id).await;
        assert_eq!(&again, old, "the same receipt after a restart");
        verify(&again, &s.service_certificate_pem()).unwrap();
    }
    let next = admin.write("after restart").await;
    let seq = |id: &str| id.split_once('.').unwrap().1.parse::<u64>().unwrap();
    assert!(seq(&next) > seq(&last));
    admin.wait_committed(&next).await;
    verify(&admin.receipt(&next).await, &service).unwrap();
    s.shutdown().await;
}

#[tokio::test]
async fn a_second_sandbox_cannot_open_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    match Sandbox::start(options(dir.path())).await {
        Err(SandboxError::Locked { .. }) => {}
        other => panic!("expected Locked, got {other:?}"),
    }
    let wrong_id = Sandbox::start(options(dir.path()).ledger_id("other")).await;
    assert!(wrong_id.is_err());
    s.shutdown().await;
    // Released at shutdown; a different ledger id is refused.
    match Sandbox::start(options(dir.path()).ledger_id("other")).await {
        Err(SandboxError::Config(m)) => assert!(m.contains("holds ledger 'sandbox'"), "{m}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[tokio::test]
async fn torn_tail_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    let admin = Client::admin(&s);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(admin.write(&format!("kept {i}")).await);
    }
    s.shutdown().await;

    // A crash in the middle of appending: a record header announcing more bytes than follow.
    let log = dir.path().join(files::LEDGER);
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let mut fragment = 0x5243_4C53u32.to_le_bytes().to_vec();
    fragment.extend_from_slice(&500u32.to_le_bytes());
    fragment.extend_from_slice(&[0xAB; 4]);
    fragment.extend_from_slice(b"partial payload");
    f.write_all(&fragment).unwrap();
    drop(f);
    let size = std::fs::metadata(&log).unwrap().len();

    let s = Sandbox::start(options(dir.path())).await.unwrap();
    assert_eq!(s.startup_report().truncated_bytes, fragment.len() as u64);
    assert!(std::fs::metadata(&log).unwrap().len() <= size - fragment.len() as u64 + 4096);
    let admin = Client::admin(&s);
    for (i, id) in ids.iter().enumerate() {
        admin.wait_committed(id).await;
        let (r, _) = admin.get_ready(&format!("/app/transactions/{id}")).await;
        assert_eq!(r.body["entry"]["contents"], format!("kept {i}"));
    }
    let next = admin.write("after the tear").await;
    admin.wait_committed(&next).await;
    verify(&admin.receipt(&next).await, &s.service_certificate_pem()).unwrap();
    s.shutdown().await;

    let s = Sandbox::start(options(dir.path())).await.unwrap();
    assert_eq!(s.startup_report().truncated_bytes, 0);
    s.shutdown().await;
}

#[tokio::test]
async fn corruption_in_the_middle_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    let admin = Client::admin(&s);
    for i in 0..50 {
        admin.write(&format!("entry number {i}")).await;
    }
    s.shutdown().await;

    let log = dir.path().join(files::LEDGER);
    let mut bytes = std::fs::read(&log).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&log, &bytes).unwrap();
    match Sandbox::start(options(dir.path())).await {
        Err(e @ SandboxError::Corrupt { offset, .. }) => {
            assert!(
                offset <= middle as u64 && offset + 200 > middle as u64,
                "offset {offset}, flipped {middle}"
            );
            let message = e.to_string();
            assert!(
                message.contains(&format!("byte offset {offset}")),
                "{message}"
            );
        }
        Err(e) => panic!("expected corruption, got {e}"),
        Ok(_) => panic!("a corrupt ledger must not start"),
    }
    // Nothing was cut off: repairing the byte brings everything back.
    bytes[middle] ^= 0x40;
    std::fs::write(&log, &bytes).unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    assert_eq!(
        all_entries(&Client::admin(&s), "subledger:0").await.len(),
        50
    );
    s.shutdown().await;
}

/// A sandbox process.
struct Process {
    child: Child,
    info: Value,
}

impl Process {
    fn spawn(dir: &Path) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_confidential-ledger-sandbox"))
            .args([
                "--data-dir",
                dir.to_str().unwrap(),
                "--print-json",
                "--signature-interval-ms",
                "20",
                // Stops with this process even if it aborts (stdin is a pipe held in `child`).
                "--stop-on-stdin-eof",
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the sandbox binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the sandbox prints its endpoints");
        let info: Value = serde_json::from_str(&line).expect("one JSON line");
        Process { child, info }
    }

    fn client(&self) -> Client {
        let read = |k: &str| std::fs::read_to_string(self.info[k].as_str().unwrap()).unwrap();
        let cert = read("adminCertificatePath");
        let key = read("adminPrivateKeyPath");
        Client::new(
            self.info["ledgerEndpoint"].as_str().unwrap(),
            &read("serviceCertificatePath"),
            Some((&cert, &key)),
        )
    }

    fn service(&self) -> String {
        std::fs::read_to_string(self.info["serviceCertificatePath"].as_str().unwrap()).unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut process = Process::spawn(dir.path());
    let client = process.client();

    // A few committed writes and their receipts, to check after the crash.
    let mut early = Vec::new();
    for i in 0..3 {
        let id = client.write(&format!("early {i}")).await;
        client.wait_committed(&id).await;
        early.push(client.receipt(&id).await);
    }

    let acked: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let unanswered: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..8 {
        let client = client.clone();
        let acked = acked.clone();
        let unanswered = unanswered.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let contents = format!("writer {w} entry {i}");
                let sent = client
                    .http
                    .post(client.url("/app/transactions"))
                    .json(&json!({ "contents": contents }))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::OK => {
                        let id = r.headers()["x-ms-ccf-transaction-id"]
                            .to_str()
                            .unwrap()
                            .to_string();
                        let previous = acked.lock().unwrap().insert(id.clone(), contents);
                        assert_eq!(previous, None, "transaction id {id} issued twice");
                    }
                    _ => {
                        unanswered.lock().unwrap().push(contents);
                        return;
                    }
                }
            }
        }));
    }
    let start = Instant::now();
    while (acked.lock().unwrap().len() < 1000 || start.elapsed() < Duration::from_millis(300))
        && start.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SIGKILL while the writers are still writing.
    process.child.kill().unwrap();
    process.child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 300,
        "only {} writes before the kill",
        acked.len()
    );

    let process = Process::spawn(dir.path());
    let client = process.client();
    let service = process.service();
    // Everything acknowledged is there, with its id and contents, and commits.
    let last = acked
        .keys()
        .max_by_key(|id| id.split_once('.').unwrap().1.parse::<u64>().unwrap())
        .unwrap();
    client.wait_committed(last).await;
    let found: BTreeMap<String, String> = all_entries(&client, "subledger:0")
        .await
        .into_iter()
        .collect();
    for (id, contents) in &acked {
        assert_eq!(
            found.get(id),
            Some(contents),
            "acknowledged write {id} lost"
        );
    }
    let present: std::collections::BTreeSet<&String> = found.values().collect();
    assert_eq!(
        present.len(),
        found.len(),
        "an entry is in the ledger twice"
    );
    let mut tally = Tally::default();
    for contents in acked.values() {
        tally.count("200 (acknowledged)", present.contains(contents));
    }
    for contents in unanswered.lock().unwrap().iter() {
        tally.count("no answer (killed)", present.contains(contents));
    }
    println!(
        "{}",
        tally.table("kill -9 during 8 concurrent writers, then a restart:")
    );
    assert_eq!(tally.present("200 (acknowledged)"), acked.len() as u64);
    // Receipts from before the crash are unchanged and verify; new ones too (the tree is intact).
    for old in &early {
        let id = old["transactionId"].as_str().unwrap();
        let again = client.receipt(id).await;
        assert_eq!(&again, old);
        verify(&again, &service).unwrap();
    }
    for id in acked.keys().step_by(37) {
        verify(&client.receipt(id).await, &service).unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    let after = client.write("after the crash").await;
    client.wait_committed(&after).await;
    verify(&client.receipt(&after).await, &service).unwrap();
}

/// Starts a sandbox on `dir`, writes `n` acknowledged entries, shuts it down; returns their ids.
async fn ledger_with_entries(dir: &Path, n: usize) -> Vec<String> {
    let s = Sandbox::start(options(dir)).await.unwrap();
    let admin = Client::admin(&s);
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(admin.write(&format!("acknowledged {i}")).await);
    }
    s.shutdown().await;
    ids
}

fn expect_corrupt(result: Result<Sandbox, SandboxError>, file: &str) -> String {
    match result {
        Err(e @ SandboxError::Corrupt { .. }) => {
            let message = e.to_string();
            assert!(message.contains(file), "{message}");
            message
        }
        Err(e) => panic!("expected corruption naming {file}, got {e}"),
        Ok(_) => panic!("the sandbox started as if nothing was wrong with {file}"),
    }
}

#[tokio::test]
async fn an_identity_without_its_full_ledger_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ledger_with_entries(dir.path(), 5).await;
    let log = dir.path().join(files::LEDGER);
    let bytes = std::fs::read(&log).unwrap();

    std::fs::remove_file(&log).unwrap();
    let missing = expect_corrupt(Sandbox::start(options(dir.path())).await, files::LEDGER);
    assert!(missing.contains("missing"), "{missing}");
    for len in [0, 10, 16, bytes.len() - 3] {
        std::fs::write(&log, &bytes[..len]).unwrap();
        expect_corrupt(Sandbox::start(options(dir.path())).await, files::LEDGER);
    }
    // Nothing was changed by the refusals: the whole file brings everything back.
    std::fs::write(&log, &bytes).unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    let admin = Client::admin(&s);
    let found = all_entries(&admin, "subledger:0").await;
    assert_eq!(found.len(), ids.len());
    let next = admin.write("next").await;
    assert!(!ids.contains(&next));
    s.shutdown().await;
}

#[tokio::test]
async fn a_damaged_acknowledged_last_record_is_refused_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    ledger_with_entries(dir.path(), 5).await;
    let log = dir.path().join(files::LEDGER);
    let mut bytes = std::fs::read(&log).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    std::fs::write(&log, &bytes).unwrap();
    let message = expect_corrupt(Sandbox::start(options(dir.path())).await, files::LEDGER);
    assert!(message.contains("acknowledged"), "{message}");
    assert_eq!(std::fs::read(&log).unwrap(), bytes, "nothing was cut");
    bytes[last] ^= 0x01;
    std::fs::write(&log, &bytes).unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    assert_eq!(s.startup_report().truncated_bytes, 0);
    assert_eq!(
        all_entries(&Client::admin(&s), "subledger:0").await.len(),
        5
    );
    s.shutdown().await;
}

/// A complete, valid log record (`magic | len | crc32c(len || payload) | payload`) made of
/// bytes that are all ASCII, so that it fits in an entry's contents.
fn ascii_record() -> Vec<u8> {
    for n in 0u32.. {
        let payload = format!("not a transaction {n:08}");
        let len = (payload.len() as u32).to_le_bytes();
        let crc = crc32c::crc32c_append(crc32c::crc32c(&len), payload.as_bytes()).to_le_bytes();
        if crc.iter().all(|b| *b < 0x80) {
            let mut out = 0x5243_4C53u32.to_le_bytes().to_vec();
            out.extend_from_slice(&len);
            out.extend_from_slice(&crc);
            out.extend_from_slice(payload.as_bytes());
            return out;
        }
    }
    unreachable!()
}

#[tokio::test]
async fn entry_contents_that_look_like_records_never_confuse_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = ascii_record();
    let poison = String::from_utf8(embedded.repeat(3)).unwrap();
    let s = Sandbox::start(options(dir.path())).await.unwrap();
    let admin = Client::admin(&s);
    let poisoned = admin.write(&poison).await;
    admin.write("after the poison").await;
    s.shutdown().await;

    // A crash while appending another such entry: its record is torn after the embedded
    // record, which is complete and valid on its own.
    let log = dir.path().join(files::LEDGER);
    let mut fragment = 0x5243_4C53u32.to_le_bytes().to_vec();
    fragment.extend_from_slice(&4000u32.to_le_bytes());
    fragment.extend_from_slice(&[0x11; 4]);
    fragment.extend_from_slice(b"torn entry: ");
    fragment.extend_from_slice(&embedded);
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(&fragment).unwrap();
    drop(f);

    let s = Sandbox::start(options(dir.path())).await.unwrap();
    assert_eq!(s.startup_report().truncated_bytes, fragment.len() as u64);
    let admin = Client::admin(&s);
    let (r, _) = admin
        .get_ready(&format!("/app/transactions/{poisoned}"))
        .await;
    assert_eq!(r.body["entry"]["contents"], poison);
    assert_eq!(all_entries(&admin, "subledger:0").await.len(), 2);
    s.shutdown().await;
}

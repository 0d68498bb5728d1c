//! The binary: start-up output, `token`, `rotate-identity` (offline and against a running
//! sandbox), seeded users.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use support::Client;

const BIN: &str = env!("CARGO_BIN_EXE_confidential-ledger-sandbox");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

struct Running {
    child: Child,
    lines: Vec<String>,
    info: Value,
}

/// Starts the binary and reads its output up to the JSON line.
fn start(dir: &Path, extra: &[&str]) -> Running {
    let mut running = Running {
        child: Command::new(BIN)
            .args([
                "--data-dir",
                dir.to_str().unwrap(),
                "--signature-interval-ms",
                "20",
            ])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
        lines: Vec::new(),
        info: Value::Null,
    };
    let mut reader = BufReader::new(running.child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the sandbox exited early: {:?}",
            running.lines
        );
        let line = line.trim_end().to_string();
        if line.starts_with('{') {
            running.info = serde_json::from_str(&line).unwrap();
            return running;
        }
        running.lines.push(line);
    }
}

impl Running {
    fn client(&self) -> Client {
        let read = |k: &str| std::fs::read_to_string(self.info[k].as_str().unwrap()).unwrap();
        Client::new(
            self.info["ledgerEndpoint"].as_str().unwrap(),
            &read("serviceCertificatePath"),
            Some((&read("adminCertificatePath"), &read("adminPrivateKeyPath"))),
        )
    }

    /// SIGTERM and wait for a clean exit.
    fn stop(mut self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        for _ in 0..500 {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the sandbox did not stop on SIGTERM");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_output_tokens_and_seeded_users() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(
        dir.path(),
        &[
            "--ledger-id",
            "contoso",
            "--user",
            "seeded-oid=Reader,Contributor",
        ],
    );
    let text = running.lines.join("\n");
    for needle in [
        "ledger endpoint",
        "identity endpoint",
        "identity_ca.pem",
        "contoso",
        "service_cert.pem",
        "admin_cert.pem",
        "admin_key.pem",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let info = &running.info;
    assert_eq!(info["ledgerId"], "contoso");
    assert!(
        info["ledgerEndpoint"]
            .as_str()
            .unwrap()
            .starts_with("https://localhost:")
    );
    assert!(
        info["identityEndpoint"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );
    let ca = info["identityCaPath"].as_str().unwrap();
    assert!(ca.ends_with("identity_ca.pem"), "{ca}");
    assert!(
        std::fs::read_to_string(ca)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );

    let token = run(&[
        "token",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--oid",
        "seeded-oid",
    ]);
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    assert_eq!(token.split('.').count(), 3);
    let admin = running.client();
    let mut user = admin.clone();
    user.token = Some(token);
    user.http = Client::new(
        &admin.base,
        &std::fs::read_to_string(info["serviceCertificatePath"].as_str().unwrap()).unwrap(),
        None,
    )
    .http;
    let id = user.write("written with a CLI token").await;
    admin.wait_committed(&id).await;
    let expired = run(&[
        "token",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--oid",
        "seeded-oid",
        "--expires-in",
        "-600",
    ]);
    user.token = Some(
        String::from_utf8(expired.stdout)
            .unwrap()
            .trim()
            .to_string(),
    );
    assert_eq!(
        user.get("/app/collections").await.status,
        StatusCode::UNAUTHORIZED
    );
    running.stop();

    // Restarting without --ledger-id keeps the stored one.
    let again = start(dir.path(), &["--print-json"]);
    assert!(
        again.lines.is_empty(),
        "--print-json prints only the JSON line"
    );
    assert_eq!(again.info["ledgerId"], "contoso");
    again.stop();

    let no_dir = run(&["--port", "0"]);
    assert!(!no_dir.status.success());
    assert!(String::from_utf8_lossy(&no_dir.stderr).contains("--data-dir"));
}

/// With `--stop-on-stdin-eof`, closing the sandbox's stdin (what happens when the process
/// that started it dies) stops it cleanly; without the flag, a closed stdin changes nothing.
#[test]
fn a_closed_stdin_stops_the_sandbox_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let spawn = |extra: &[&str]| {
        Command::new(BIN)
            .args(["--data-dir", dir.path().to_str().unwrap(), "--print-json"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let announced = |child: &mut Child| {
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with('{'), "{line}");
    };
    let exit_within = |child: &mut Child, limit: Duration| {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    };

    let mut unasked = spawn(&[]);
    announced(&mut unasked);
    drop(unasked.stdin.take());
    assert_eq!(
        exit_within(&mut unasked, Duration::from_millis(500)),
        None,
        "stdin's end alone does not stop it"
    );
    let _ = unasked.kill();
    let _ = unasked.wait();

    let mut asked = spawn(&["--stop-on-stdin-eof"]);
    announced(&mut asked);
    drop(asked.stdin.take());
    let status = exit_within(&mut asked, Duration::from_secs(30))
        .expect("the sandbox stops once its stdin is closed");
    assert!(status.success(), "a clean stop: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_identity_offline_and_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let nothing = run(&["rotate-identity", "--data-dir", d]);
    assert!(!nothing.status.success(), "no ledger there yet");

    let running = start(dir.path(), &[]);
    let admin = running.client();
    let before = admin.write("before").await;
    admin.wait_committed(&before).await;
    let cert_path = running.info["serviceCertificatePath"]
        .as_str()
        .unwrap()
        .to_string();
    let first = std::fs::read_to_string(&cert_path).unwrap();

    // While running: through the control endpoint.
    let online = run(&["rotate-identity", "--data-dir", d]);
    assert!(
        online.status.success(),
        "{}",
        String::from_utf8_lossy(&online.stderr)
    );
    let second = std::fs::read_to_string(&cert_path).unwrap();
    assert_ne!(first, second);
    assert!(String::from_utf8_lossy(&online.stdout).contains(second.trim()));
    let admin = running.client();
    let receipt = admin.receipt(&before).await;
    support::verify::verify(&receipt, &second).unwrap();
    running.stop();

    // Offline: the ledger is opened by the command itself.
    let offline = run(&["rotate-identity", "--data-dir", d]);
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let third = std::fs::read_to_string(&cert_path).unwrap();
    assert_ne!(second, third);

    let running = start(dir.path(), &[]);
    let admin = running.client();
    let receipt = admin.receipt(&before).await;
    assert_eq!(
        receipt["receipt"]["serviceEndorsements"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    support::verify::verify(&receipt, &third).unwrap();
    running.stop();
}

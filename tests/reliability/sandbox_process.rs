//! The `confidential-ledger-sandbox` binary as a child process: found (or built) next to this
//! test binary, started on a fixed port and data directory, killed with SIGKILL.
//!
//! # Finding the binary
//!
//! Cargo tells a test where its own package's binaries are (`CARGO_BIN_EXE_<name>`), not where
//! another package's are, so the binary is looked up where cargo puts it: the profile directory
//! this test binary runs from (`target/<profile>/deps/reliability-<hash>` ->
//! `target/<profile>/confidential-ledger-sandbox`).
//!
//! - `cargo test --workspace` (what CI runs) builds it fresh there, because the sandbox package
//!   has integration tests of its own: it is used as it is.
//! - When it is missing, or older than any source it is built from (the sandbox's `src/` and
//!   manifest, the workspace manifest and lock file), for example when only this test binary
//!   was built, it is built first with `cargo build -p confidential-ledger-sandbox --bin
//!   confidential-ledger-sandbox` (same profile and target directory). That takes a while the
//!   first time.
//! - `CONFIDENTIAL_LEDGER_SANDBOX_BIN` overrides the lookup with a path.
//!
//! A nested `cargo build` is avoided when the binary is fresh because cargo would rebuild it
//! (with the features of the sandbox package alone, not the workspace's unified test features)
//! and much of its dependency tree with it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const BINARY: &str = "confidential-ledger-sandbox";

/// The sandbox binary, built if needed (once per test run).
pub fn sandbox_binary() -> PathBuf {
    static BINARY_PATH: OnceLock<PathBuf> = OnceLock::new();
    BINARY_PATH.get_or_init(locate).clone()
}

fn locate() -> PathBuf {
    if let Some(path) = std::env::var_os("CONFIDENTIAL_LEDGER_SANDBOX_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test binary>
    let deps = exe.parent().expect("the deps directory");
    let profile_dir = deps.parent().expect("the profile directory");
    let binary = profile_dir.join(BINARY);
    if is_fresh(&binary) {
        return binary;
    }
    build(profile_dir);
    assert!(
        binary.is_file(),
        "cargo built the sandbox but {} does not exist",
        binary.display()
    );
    binary
}

/// True when `binary` exists and is newer than every source it is built from.
fn is_fresh(binary: &Path) -> bool {
    let Ok(built) = std::fs::metadata(binary).and_then(|m| m.modified()) else {
        return false;
    };
    let root = testkit::workspace_root();
    let mut sources = vec![
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        root.join("sandbox/Cargo.toml"),
    ];
    collect_files(&root.join("sandbox/src"), &mut sources);
    sources.iter().all(|source| {
        std::fs::metadata(source)
            .and_then(|m| m.modified())
            .map_or(true, |changed| changed <= built)
    })
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `cargo build` of the sandbox binary into the profile directory `profile_dir`.
fn build(profile_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug");
    let target_dir = profile_dir.parent().expect("the target directory");
    let mut command = Command::new(cargo);
    command
        .current_dir(testkit::workspace_root())
        .args(["build", "--quiet", "-p", BINARY, "--bin", BINARY])
        .arg("--target-dir")
        .arg(target_dir);
    match profile {
        "debug" => {}
        "release" => {
            command.arg("--release");
        }
        other => {
            command.args(["--profile", other]);
        }
    }
    // Cargo runs tests with the variables it gives the package being tested
    // (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, `OUT_DIR`...). Build scripts rerun when those
    // change (ring's does), and a rerun invalidates artifacts the outer build shares: build
    // with the environment cargo itself was started with.
    for (key, _) in std::env::vars_os() {
        if let Some(key) = key.to_str()
            && set_by_cargo_for_the_test(key)
        {
            command.env_remove(key);
        }
    }
    eprintln!("building {BINARY} ({profile}) for the crash test...");
    let status = command.status().expect("cargo runs");
    assert!(status.success(), "cargo build of {BINARY} failed: {status}");
}

/// True for the variables cargo sets for a test process (not its configuration variables such
/// as `CARGO_HOME`, `CARGO_TARGET_DIR` or `CARGO_PROFILE_*`).
fn set_by_cargo_for_the_test(key: &str) -> bool {
    key == "OUT_DIR"
        || [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_BIN_",
            "CARGO_CFG_",
            "CARGO_FEATURE_",
        ]
        .iter()
        .any(|prefix| key.starts_with(prefix))
        || matches!(
            key,
            "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR"
        )
}

/// A free port on 127.0.0.1 below the system's ephemeral port range.
///
/// The sandbox is restarted on this port, and while it is down nothing may take it: not a
/// listener of another test (those bind port 0, which picks from the ephemeral range), and not
/// the client itself (connecting to a loopback port nobody listens on can pick that very port
/// as the client's own, and TCP connects the socket to itself: the client then reads its own
/// TLS `ClientHello` back). The port is the first free one from a point chosen by `seed` and
/// the process id.
pub fn free_port(seed: u64) -> u16 {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 10_000u16;
    assert!(
        ephemeral_start > low + 1000,
        "ephemeral ports start at {ephemeral_start}"
    );
    let span = u64::from(ephemeral_start - low);
    let start = (seed ^ u64::from(std::process::id())) % span;
    (0..span)
        .map(|i| low + ((start + i) % span) as u16)
        .find(|port| {
            // The sandbox also listens on ::1 when it can; a host without IPv6 is fine.
            let v6_taken = matches!(
                std::net::TcpListener::bind(("::1", *port)),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
            );
            std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok() && !v6_taken
        })
        .expect("a free port below the ephemeral range")
}

/// A running sandbox binary.
pub struct SandboxProcess {
    child: Child,
    /// The JSON line it printed (`--print-json`).
    pub info: serde_json::Value,
}

impl SandboxProcess {
    /// Starts the sandbox on `port` and `data_dir`, with `extra` arguments, and waits until it
    /// announced itself (it listens by then).
    pub fn start(data_dir: &Path, port: u16, extra: &[&str]) -> SandboxProcess {
        let mut child = Command::new(sandbox_binary())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--port", &port.to_string(), "--print-json"])
            .args(["--signature-interval-ms", "20"])
            // Stdin is a pipe this process holds open (in `child`): if the test process dies
            // without dropping `SandboxProcess` (an abort), the sandbox sees its end and stops.
            .arg("--stop-on-stdin-eof")
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the sandbox binary starts");
        let stdout = child.stdout.take().expect("its stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                panic!("the sandbox did not announce itself: {e}");
            }
        };
        let info: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
        SandboxProcess { child, info }
    }

    /// The ledger endpoint it announced.
    pub fn endpoint(&self) -> String {
        self.info["ledgerEndpoint"]
            .as_str()
            .expect("ledgerEndpoint")
            .to_owned()
    }

    /// Reads a file it announced (`serviceCertificatePath`, `adminCertificatePath`...).
    pub fn read(&self, key: &str) -> String {
        let path = self.info[key].as_str().unwrap_or_else(|| panic!("{key}"));
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Kills it with SIGKILL (no chance to flush or clean up) and waits for it to be gone.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the sandbox exits");
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

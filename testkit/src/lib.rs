//! Test support shared by the workspace's test suites.
//!
//! - [`shared`]: the reference data next to the checkout (`../shared`), skipped with a message
//!   when absent.
//! - [`node`]: the official JavaScript client under Node, used by the interoperability tests.
//! - [`python`]: the Python virtual environment with the official client and CCF's tools, used by
//!   the interoperability tests.
//! - [`http`]: a recording HTTP(S) server on 127.0.0.1 with scripted replies (responses, dropped
//!   connections, hangs), to prove what a client sent where.
//! - [`capture`]: an in-memory writer for log output that tests scan.
//! - [`memory`]: a process's resident memory (peak and current), for benchmarks.
//!
//! Skipping: a test that cannot find what it needs prints `skipped: <why>` and returns, except
//! when `CI` is set to `true`, where the missing piece is a failure.

pub mod capture;
pub mod http;
pub mod memory;
pub mod node;
pub mod pki;
pub mod python;
pub mod shared;

use std::path::PathBuf;

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives one level below the workspace root")
        .to_path_buf()
}

/// True when running under CI (`CI=true`), where skipping is not allowed.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Report that a test cannot run here: prints the reason and returns `None` outside CI, panics
/// in CI.
pub fn skip<T>(why: impl std::fmt::Display) -> Option<T> {
    assert!(!in_ci(), "required in CI but unavailable: {why}");
    eprintln!("skipped: {why}");
    None
}

/// Makes a FIFO (named pipe) at `path` with `mkfifo`; where that cannot be done, reports the
/// test as skipped (see [`skip`]) and returns `None`.
pub fn make_fifo(path: &std::path::Path) -> Option<()> {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    if made.is_ok_and(|status| status.success()) {
        Some(())
    } else {
        skip(format!("mkfifo cannot make {}", path.display()))
    }
}

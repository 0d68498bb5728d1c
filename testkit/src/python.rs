//! The Python environment for interoperability tests.
//!
//! `.ci/python-env` creates a virtual environment under the target directory with the pinned
//! packages of `.ci/python-requirements.txt` (the official `azure-confidentialledger` client and
//! CCF's `ccf` package). [`interpreter`] runs that script once per test process and returns the
//! environment's interpreter.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => crate::workspace_root().join("target"),
    }
}

fn prepare() -> Result<PathBuf, String> {
    let root = crate::workspace_root();
    let dir = target_dir().join("python-env");
    let script = root.join(".ci").join("python-env");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let python = dir.join("bin").join("python");
    if python.exists() {
        Ok(python)
    } else {
        Err(format!(
            "{} did not create {}",
            script.display(),
            python.display()
        ))
    }
}

/// The interpreter of the interop virtual environment, creating it on first use. Returns `None`
/// with a skip message when Python or pip is unavailable (a failure in CI).
pub fn interpreter() -> Option<PathBuf> {
    static ENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match ENV.get_or_init(prepare) {
        Ok(p) => Some(p.clone()),
        Err(why) => crate::skip(format!("Python interop environment unavailable: {why}")),
    }
}

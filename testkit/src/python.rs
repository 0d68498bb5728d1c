//! The Python environments for interoperability tests.
//!
//! `.ci/python-env` creates a virtual environment under the target directory with the pinned
//! packages of `.ci/python-requirements.txt` (the official `azure-confidentialledger` client
//! 1.1.1 and CCF's `ccf` package), and another one with `.ci/python2-requirements.txt` (the
//! client 2.0.0b2). [`interpreter`] and [`interpreter_2x`] run that script once per test
//! process and return the environment's interpreter.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => crate::workspace_root().join("target"),
    }
}

fn prepare(env_name: &str, requirements: &str) -> Result<PathBuf, String> {
    let root = crate::workspace_root();
    let dir = target_dir().join(env_name);
    let script = root.join(".ci").join("python-env");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .arg(root.join(".ci").join(requirements))
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
    match ENV.get_or_init(|| prepare("python-env", "python-requirements.txt")) {
        Ok(p) => Some(p.clone()),
        Err(why) => crate::skip(format!("Python interop environment unavailable: {why}")),
    }
}

/// The interpreter of the environment with the official client 2.x (2.0.0b2), creating it on
/// first use; `None` with a skip message when Python or pip is unavailable (a failure in CI).
///
/// # Examples
///
/// ```no_run
/// if let Some(python) = testkit::python::interpreter_2x() {
///     assert!(python.ends_with("python"));
/// }
/// ```
pub fn interpreter_2x() -> Option<PathBuf> {
    static ENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match ENV.get_or_init(|| prepare("python2-env", "python2-requirements.txt")) {
        Ok(p) => Some(p.clone()),
        Err(why) => crate::skip(format!("Python 2.x interop environment unavailable: {why}")),
    }
}

/// Runs `python` with `args` off the async executor, trusting the sandbox's identity CA `ca`
/// the way an unmodified official client does (`REQUESTS_CA_BUNDLE` and `SSL_CERT_FILE`), and
/// returns its output.
///
/// # Panics
///
/// When the interpreter cannot be started (a test support function).
///
/// # Examples
///
/// ```no_run
/// # async fn run(python: std::path::PathBuf, ca: std::path::PathBuf) {
/// let output = testkit::python::run_trusting(python, vec!["flow.py".into()], ca).await;
/// assert!(output.status.success());
/// # }
/// ```
pub async fn run_trusting(python: PathBuf, args: Vec<String>, ca: PathBuf) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(args)
            .env("REQUESTS_CA_BUNDLE", &ca)
            .env("SSL_CERT_FILE", &ca)
            .output()
    })
    .await
    .expect("the Python task runs")
    .expect("python runs")
}

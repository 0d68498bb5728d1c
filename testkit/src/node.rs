//! The Node environment for interoperability tests.
//!
//! `.ci/node-env` installs the official JavaScript client (`@azure-rest/confidential-ledger`,
//! pinned by `.ci/node/package-lock.json`) under the target directory. [`environment`] runs
//! that script once per test process and returns where the modules are.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// What a test needs to run a script with the official JavaScript client.
///
/// # Examples
///
/// ```no_run
/// if let Some(node) = testkit::node::environment() {
///     let status = std::process::Command::new(&node.node)
///         .env("NODE_PATH", &node.modules)
///         .arg("--version")
///         .status()
///         .unwrap();
///     assert!(status.success());
/// }
/// ```
#[derive(Clone, Debug)]
pub struct NodeEnv {
    /// The `node` executable.
    pub node: PathBuf,
    /// The `node_modules` directory to put in `NODE_PATH`.
    pub modules: PathBuf,
}

fn prepare() -> Result<NodeEnv, String> {
    let root = crate::workspace_root();
    let dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => root.join("target"),
    }
    .join("node-env");
    let script = root.join(".ci").join("node-env");
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
    let modules = dir.join("node_modules");
    if !modules
        .join("@azure-rest")
        .join("confidential-ledger")
        .exists()
    {
        return Err(format!("{} did not install the client", script.display()));
    }
    Ok(NodeEnv {
        node: PathBuf::from("node"),
        modules,
    })
}

/// The Node environment with the official client, installing it on first use. Returns `None`
/// with a skip message when Node or npm is unavailable (a failure in CI).
pub fn environment() -> Option<NodeEnv> {
    static ENV: OnceLock<Result<NodeEnv, String>> = OnceLock::new();
    match ENV.get_or_init(prepare) {
        Ok(env) => Some(env.clone()),
        Err(why) => crate::skip(format!("Node interop environment unavailable: {why}")),
    }
}

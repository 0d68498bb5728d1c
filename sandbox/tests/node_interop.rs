//! The official JavaScript client (`@azure-rest/confidential-ledger` 1.0.0, installed by
//! `.ci/node-env`) runs the seed README's tasks against the sandbox, unmodified, with a client
//! certificate and with a bearer token: the identity lookup over HTTPS (the sandbox's CA given
//! through `NODE_EXTRA_CA_CERTS`, the platform's standard setting), append, status until
//! committed, read back, current entry, receipt, a write to a collection and a ranged query of it
//! (through the client's own pager), collections, governance reads and, with the
//! certificate, the legacy user calls this client has. Each receipt it fetched is verified by
//! CCF's `ccf.receipt` too (when the Python environment is there).

use std::io::Write;
use std::process::{Command, Stdio};

use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/node/official_sdk_flow.js"
);
const CCF_VERIFY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/ccf_verify_receipt.py"
);

/// Runs the flow in `mode` (`cert` or `token`) and returns what the script saw.
async fn run_flow(s: &Sandbox, node: &testkit::node::NodeEnv, mode: &str) -> Value {
    let token = s.mint_token("node-oid");
    let args = vec![
        SCRIPT.to_string(),
        s.ledger_endpoint(),
        s.identity_endpoint(),
        s.ledger_id().to_string(),
        mode.to_string(),
        s.admin_certificate_path().display().to_string(),
        s.admin_private_key_path().display().to_string(),
        token,
    ];
    let (program, modules, ca) = (
        node.node.clone(),
        node.modules.clone(),
        s.identity_ca_path(),
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new(program)
            .args(args)
            .env("NODE_PATH", modules)
            .env("NODE_EXTRA_CA_CERTS", ca)
            .stdin(Stdio::null())
            .output()
    })
    .await
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{mode}: the official JavaScript client failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{mode}: {e}: {stdout}"))
}

/// Verifies `receipt` (a receipt answer) with CCF's `ccf.receipt`; skipped with a message when
/// the Python environment is absent (a failure in CI).
async fn ccf_verifies(s: &Sandbox, receipt: &Value) {
    let Some(python) = testkit::python::interpreter() else {
        return;
    };
    let cert = s.service_certificate_path();
    let body = receipt.to_string();
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(python)
            .arg(CCF_VERIFY)
            .arg(cert)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(body.as_bytes())?;
        child.wait_with_output()
    })
    .await
    .unwrap()
    .expect("python runs");
    assert!(
        output.status.success(),
        "ccf.receipt refused the receipt: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_javascript_client_in_both_auth_modes() {
    let Some(node) = testkit::node::environment() else {
        return;
    };
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    s.add_user("node-oid", &["Administrator"]).await.unwrap();
    for mode in ["cert", "token"] {
        let seen = run_flow(&s, &node, mode).await;
        assert_eq!(seen["identity_ledger_id"], "sandbox", "{mode}: {seen}");
        assert_eq!(seen["status"], "Committed", "{mode}: {seen}");
        let written = format!("Hello from Node ({mode})");
        assert_eq!(seen["entry"], written.as_str(), "{mode}: {seen}");
        assert_eq!(seen["current"], written.as_str(), "{mode}: {seen}");
        assert_eq!(seen["receipt_state"], "Ready", "{mode}: {seen}");
        assert_eq!(seen["members"], 1, "{mode}: {seen}");
        assert!(
            seen["collections"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c == "subledger:0")),
            "{mode}: {seen}"
        );
        let in_collection = format!("In a collection ({mode})");
        assert_eq!(seen["collection_write"], format!("node-{mode}"), "{seen}");
        assert_eq!(
            seen["ranged"],
            serde_json::json!([in_collection]),
            "the ranged query of the collection, through the client's pager: {seen}"
        );
        assert!(
            seen["collections"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| *c == *format!("node-{mode}"))),
            "{mode}: {seen}"
        );
        ccf_verifies(&s, &seen["receipt"]).await;
        if mode == "cert" {
            assert_eq!(seen["user"]["assignedRole"], "Reader", "{seen}");
            assert_eq!(seen["user_got"], seen["user"], "{seen}");
            assert_eq!(seen["user_after_delete"], "404", "{seen}");
        }
    }
    s.shutdown().await;
}

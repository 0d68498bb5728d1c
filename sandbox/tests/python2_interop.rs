//! The official Python client 2.x (`azure-confidentialledger` 2.0.0b2, api-version
//! 2024-12-09-preview, installed by `.ci/python-env` into its own environment) runs the seed
//! README's tasks, ledger users, user-defined roles and user-defined functions (create, get,
//! delete) against the sandbox, unmodified, with a client certificate and with a bearer token;
//! its receipt is verified by the client's verifier and by CCF's `ccf.receipt`. The identity
//! endpoint is HTTPS, its CA given through `REQUESTS_CA_BUNDLE`.

use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/official_sdk2_flow.py"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_2x_client_in_both_auth_modes() {
    let Some(python) = testkit::python::interpreter_2x() else {
        return;
    };
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    s.add_user("py2-oid", &["Administrator"]).await.unwrap();
    for mode in ["cert", "token"] {
        let args = [
            SCRIPT.to_string(),
            s.ledger_endpoint(),
            s.identity_endpoint(),
            s.ledger_id().to_string(),
            s.service_certificate_path().display().to_string(),
            s.admin_pem_path().display().to_string(),
            mode.to_string(),
            s.mint_token("py2-oid"),
        ];
        let (python, ca) = (python.clone(), s.identity_ca_path());
        let output = testkit::python::run_trusting(python, args.to_vec(), ca).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{mode}: the official Python 2.x client failed:\n{}\n{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        let seen: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
        let written = format!("Hello from Python 2 ({mode})");
        assert_eq!(seen["entry"], written.as_str(), "{mode}: {seen}");
        assert_eq!(seen["current"], written.as_str(), "{mode}: {seen}");
        assert_eq!(seen["receipt_state"], "Ready", "{mode}: {seen}");
        assert_eq!(seen["constitution_digest_ok"], true, "{mode}: {seen}");
        assert_eq!(seen["members"], 1, "{mode}: {seen}");
        // At 2024-12-09-preview roles are added, as recorded.
        assert_eq!(
            seen["user_updated"]["assignedRoles"],
            json!(["Contributor", "Reader"]),
            "{mode}: {seen}"
        );
        assert_eq!(seen["user_deleted_twice"], true, "{mode}: {seen}");
        assert_eq!(
            seen["role_got"],
            json!([{ "role_actions": ["/content/read"], "role_name": "modify" }]),
            "{mode}: {seen}"
        );
        assert_eq!(
            seen["role_updated"][0]["role_actions"],
            json!(["/content/write", "/content/read"]),
            "{mode}: {seen}"
        );
        assert_eq!(seen["role_after_delete"], 404, "{mode}: {seen}");
        assert_eq!(seen["function_got"]["id"], "py2fn", "{mode}: {seen}");
        assert_eq!(seen["function_after_delete"], 404, "{mode}: {seen}");
    }
    s.shutdown().await;
}

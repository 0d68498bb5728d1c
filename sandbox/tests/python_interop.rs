//! The official Python client (1.1.1) runs a full flow against the sandbox with certificate
//! authentication and with a bearer token (a fresh sandbox each), and CCF's Python package verifies the sandbox's receipts (including one
//! signed before an identity rotation, through its endorsement).

use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_and_ccf_receipt_verification() {
    let Some(python) = testkit::python::interpreter() else {
        return;
    };
    for token in [false, true] {
        flow(&python, token).await;
    }
}

/// The whole flow against a new sandbox, with the administrator's certificate or (`token`) a
/// bearer token of another administrator.
async fn flow(python: &std::path::Path, token: bool) {
    let python = python.to_path_buf();
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    s.add_user("py-oid", &["Administrator"]).await.unwrap();
    let old = s
        .append_entry("subledger:0", "signed by the first identity")
        .await
        .unwrap();
    // Wait for its commit (a signature comes within milliseconds), then rotate.
    let mut rotated = false;
    for _ in 0..500 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        if s.rotate_service_identity().await.is_ok() {
            rotated = true;
            break;
        }
    }
    assert!(rotated);

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/official_sdk_flow.py"
    );
    let mut args = vec![
        script.to_string(),
        s.ledger_endpoint(),
        s.identity_endpoint(),
        s.ledger_id().to_string(),
        s.service_certificate_path().display().to_string(),
        s.admin_pem_path().display().to_string(),
        old.to_string(),
    ];
    if token {
        args.push(s.mint_token("py-oid"));
    }
    // The identity endpoint is HTTPS with a certificate from the sandbox's local CA: the
    // official client trusts it through requests' standard variable, unmodified.
    let ca = s.identity_ca_path();
    let output = testkit::python::run_trusting(python, args, ca).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the Python flow failed (token: {token}):\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("JSON result");

    eprintln!("python saw: {seen}");
    let txid = seen["created"]["transactionId"].as_str().unwrap();
    assert_eq!(seen["created"]["collectionId"], "subledger:0");
    assert_eq!(
        seen["entry"],
        json!({ "entry": { "collectionId": "subledger:0", "contents": "Hello from Python", "transactionId": txid }, "state": "Ready" })
    );
    assert_eq!(seen["receipt_state"], "Ready");
    assert_eq!(seen["receipt_endorsements"], 0);
    assert_eq!(seen["old_receipt_endorsements"], 1);
    assert_eq!(seen["current"]["contents"], "Hello from Python");
    assert_eq!(
        seen["ranged"],
        json!(["ranged 1", "ranged 2", "ranged 3", "ranged 4", "ranged 5"])
    );
    assert_eq!(seen["all_python"].as_array().unwrap().len(), 7);
    assert_eq!(seen["collections"], json!(["python", "subledger:0"]));
    let fingerprint = "7F:75:58:60:70:A8:B6:15:A2:CD:24:55:25:B9:64:49:F8:BF:F0:E3:4D:92:EA:B2:8C:30:E6:2D:F4:77:30:1F";
    assert_eq!(
        seen["user_created"],
        json!({ "assignedRole": "Contributor", "userId": fingerprint })
    );
    assert_eq!(seen["user_got"], seen["user_created"]);
    assert_eq!(seen["user_after_delete"], 404);
    assert_eq!(seen["members"], 1);
    assert_eq!(seen["quote_nodes"], json!([seen["current_node"]]));
    assert_eq!(seen["bad_id"], json!([404, "InvalidTransactionId"]));
    s.shutdown().await;
}

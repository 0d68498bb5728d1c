//! Answers that differ by api-version: user-defined roles and ledger users as the Python
//! recordings show them before 2026-02-23, as the 2026-02-23 spec says from then on (the table
//! in the sandbox README).

mod support;

use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use reqwest::StatusCode;
use serde_json::json;
use support::Client;

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::for_tests())
        .await
        .expect("sandbox starts")
}

/// `test_user_defined_role.2025-04-03.json` (2024-12-09-preview), step by step.
#[tokio::test]
async fn roles_before_2026_02_23_answer_as_recorded() {
    let s = sandbox().await;
    let admin = Client::admin(&s).with_api("2024-12-09-preview");
    let role =
        |actions: &[&str]| json!({ "roles": [{ "role_name": "modify", "role_actions": actions }] });

    let put = admin.put("/app/roles", role(&["/content/read"])).await;
    assert_eq!(put.status, StatusCode::OK, "{put:?}");
    assert_eq!(put.body, json!("Role added successfully."));
    assert!(put.txid.is_some());
    assert_eq!(put.headers["content-type"], "application/json");

    let got = admin.get("/app/roles?roleName=modify").await;
    assert_eq!(
        got.body,
        json!({ "roles": [{ "role_actions": ["/content/read"], "role_name": "modify" }] })
    );

    let patched = admin
        .patch("/app/roles", role(&["/content/write", "/content/read"]))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{patched:?}");
    assert_eq!(patched.body, json!("Role replaced successfully."));
    let got = admin.get("/app/roles?roleName=modify").await;
    assert_eq!(
        got.body["roles"][0]["role_actions"],
        json!(["/content/write", "/content/read"])
    );

    let deleted = admin.delete("/app/roles?roleName=modify").await;
    assert_eq!(deleted.status, StatusCode::OK, "{deleted:?}");
    assert_eq!(deleted.body, json!("Role modify deleted successfully."));
    assert!(deleted.txid.is_some());
    s.shutdown().await;
}

/// No recording exists at 2026-02-23: the spec's shapes (`role`, camelCase, `204`).
#[tokio::test]
async fn roles_from_2026_02_23_answer_as_the_spec_says() {
    let s = sandbox().await;
    let admin = Client::admin(&s).with_api("2026-02-23");
    let put = admin
        .put(
            "/app/roles",
            json!({ "roles": [{ "roleName": "modify", "roleActions": ["/content/read"] }] }),
        )
        .await;
    assert_eq!(
        put.body,
        json!({ "roles": [{ "roleActions": ["/content/read"], "roleName": "modify" }] })
    );
    let got = admin.get("/app/roles?roleName=modify").await;
    assert_eq!(
        got.body,
        json!({ "role": [{ "roleActions": ["/content/read"], "roleName": "modify" }] })
    );
    let deleted = admin.delete("/app/roles?roleName=modify").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    s.shutdown().await;
}

/// `test_ledger_user_endpoint.json` (2024-08-22-preview): deleting an absent user is `204`
/// with a transaction id, and a PATCH adds roles.
#[tokio::test]
async fn ledger_users_before_2026_02_23_add_roles_and_delete_absent_users() {
    let s = sandbox().await;
    let admin = Client::admin(&s).with_api("2024-08-22-preview");
    let path = "/app/ledgerUsers/000000000000000000000000000000000000";

    let absent = admin.delete(path).await;
    assert_eq!(absent.status, StatusCode::NO_CONTENT, "{absent:?}");
    assert!(absent.txid.is_some());

    let created = admin
        .patch(path, json!({ "assignedRoles": ["Contributor"] }))
        .await;
    assert_eq!(created.body["assignedRoles"], json!(["Contributor"]));
    let added = admin
        .patch(path, json!({ "assignedRoles": ["Reader"] }))
        .await;
    assert_eq!(
        added.body,
        json!({ "assignedRoles": ["Contributor", "Reader"], "userId": "000000000000000000000000000000000000" })
    );
    assert_eq!(admin.get(path).await.body, added.body);
    assert_eq!(admin.delete(path).await.status, StatusCode::NO_CONTENT);
    s.shutdown().await;
}

/// At 2026-02-23 the spec decides: a merge-patch replaces `assignedRoles`, an absent user is
/// `404 UserNotFound`.
#[tokio::test]
async fn ledger_users_from_2026_02_23_replace_roles_and_report_absent_users() {
    let s = sandbox().await;
    let admin = Client::admin(&s).with_api("2026-02-23");
    let path = "/app/ledgerUsers/someone";
    let absent = admin.delete(path).await;
    assert_eq!(
        (absent.status, absent.code()),
        (StatusCode::NOT_FOUND, "UserNotFound")
    );
    admin
        .patch(path, json!({ "assignedRoles": ["Contributor"] }))
        .await;
    let replaced = admin
        .patch(path, json!({ "assignedRoles": ["Reader"] }))
        .await;
    assert_eq!(replaced.body["assignedRoles"], json!(["Reader"]));
    s.shutdown().await;
}

/// `test_append_entry_flow_aad_user.json` (2024-08-22-preview) and
/// `test_append_entry_flow_aad_ledger_user.json` (2024-12-09-preview): the receipt of an entry
/// written at those versions has no `applicationClaims` and an all-zero `claimsDigest`; an
/// entry written at 2026-02-23 carries its `LedgerEntryV1` claim (spec).
#[tokio::test]
async fn receipts_carry_claims_only_for_entries_written_from_2026_02_23() {
    let s = sandbox().await;
    for (api, claims) in [
        ("2024-08-22-preview", false),
        ("2024-12-09-preview", false),
        ("2026-02-23", true),
    ] {
        let client = Client::admin(&s).with_api(api);
        let id = client.write(&format!("written at {api}")).await;
        client.wait_committed(&id).await;
        let receipt = client.receipt(&id).await;
        let digest = receipt["receipt"]["leafComponents"]["claimsDigest"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            receipt.get("applicationClaims").is_some(),
            claims,
            "{api}: {receipt}"
        );
        assert_eq!(digest == "0".repeat(64), !claims, "{api}: {digest}");
    }
    s.shutdown().await;
}

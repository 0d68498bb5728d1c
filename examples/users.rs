//! Managing users: an `Administrator` adds Entra ID principals (by object id) and certificate
//! principals (by certificate fingerprint) to the ledger, with roles.
//!
//! ```sh
//! cargo run --example users
//! ```
//!
//! Built-in roles: `Reader` (reads), `Contributor` (reads and writes), `Administrator`
//! (reads, writes, manages users and roles). User-defined roles grant chosen actions.

#[path = "common/mod.rs"]
mod common;

use confidential_ledger::models::{LedgerRole, UserDefinedRole};
use confidential_ledger::{ErrorKind, StaticTokenCredential};
use futures::TryStreamExt;

/// An Entra ID object id (of an app registration or a person).
const APP_OBJECT_ID: &str = "0f6b1e29-58a4-4d4c-9c43-3c0f1a2b3c4d";

#[tokio::main]
async fn main() -> common::Result {
    let ledger = common::connect().await?;
    let client = &ledger.client;

    // Add an Entra ID principal as a Contributor (a merge patch: adding and changing roles
    // are the same call).
    let user = client
        .create_or_update_ledger_user(APP_OBJECT_ID, &[LedgerRole::Contributor], None)
        .await?;
    println!(
        "{} now has the roles {:?}.",
        user.user_id, user.assigned_roles
    );

    // That principal can now write with its own Entra ID token. (Against the sandbox, which
    // signs its own tokens, show it.)
    if let Some(sandbox) = &ledger.sandbox {
        let app = common::sandbox_builder(sandbox)
            .credential(StaticTokenCredential::new(
                sandbox.mint_token(APP_OBJECT_ID),
            ))
            .build()
            .await?;
        let written = app.create_ledger_entry("written by the app", None).await?;
        println!("The app wrote transaction {}.", written.transaction_id);
    }

    let user = client.get_ledger_user(APP_OBJECT_ID, None).await?;
    assert_eq!(user.assigned_roles, [LedgerRole::Contributor]);

    // A certificate user is named by the SHA-256 fingerprint of its certificate; a
    // CertificateCredential (or confidential_ledger::certificate_fingerprint) computes it.
    let fingerprint = "7F:75:58:60:70:A8:B6:15:A2:CD:24:55:25:B9:64:49:F8:BF:F0:E3:4D:92:EA:B2:8C:30:E6:2D:F4:77:30:1F";
    client
        .create_or_update_ledger_user(fingerprint, &[LedgerRole::Reader], None)
        .await?;

    // Everyone, page by page.
    let users: Vec<_> = client.list_ledger_users(None).try_collect().await?;
    for user in &users {
        println!("  {} {:?}", user.user_id, user.assigned_roles);
    }

    // A user-defined role granting only some actions.
    let auditor = UserDefinedRole::new("Auditor", ["/content/read", "/receipts/read"]);
    client
        .create_user_defined_role(std::slice::from_ref(&auditor), None)
        .await?;
    println!(
        "Role Auditor allows {:?}.",
        client
            .get_user_defined_role("Auditor", None)
            .await?
            .role_actions
    );

    // Remove them again.
    client.delete_ledger_user(APP_OBJECT_ID, None).await?;
    client.delete_ledger_user(fingerprint, None).await?;
    client.delete_user_defined_role("Auditor", None).await?;
    match client.get_ledger_user(APP_OBJECT_ID, None).await {
        Err(err) if err.kind() == &ErrorKind::NotFound => println!("{APP_OBJECT_ID} is gone."),
        other => return Err(format!("the user is still there: {other:?}").into()),
    }

    ledger.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_against_an_embedded_sandbox() {
        super::main().expect("the example runs");
    }
}

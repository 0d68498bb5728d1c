//! Credentials the ledger must refuse, and roles that must not reach further than they say.
//!
//! Already covered elsewhere: the sandbox refusing expired, wrong-audience and badly signed
//! tokens over raw HTTP (`sandbox/tests/api.rs`), a Reader that cannot write or manage users and
//! principals that are not users (`tests/client/users.rs`), the mapping of 401/403 answers to
//! their kinds (`tests/pipeline/errors.rs`). Added here, through the client: every refused
//! token is `Unauthorized`, is not retried (a pass-through proxy counts the requests) and
//! changes nothing; a token whose claims were edited after signing (an Administrator's object
//! id on a Reader's signature) or that claims no signature at all is refused too; a Contributor,
//! with a token or a client certificate, cannot read or change users or roles, nor promote
//! itself, and its failed attempts change nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use confidential_ledger::models::{LedgerRole, UserDefinedRole};
use confidential_ledger::{
    CertificateCredential, ConfidentialLedgerClient, Error, ErrorKind, StaticTokenCredential,
};
use confidential_ledger_sandbox::TokenSpec;
use futures::TryStreamExt;
use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256};

use crate::support::{admin, builder_at, counting_proxy, sandbox, token_user, within};

/// `token` with its claims replaced by `edit(claims)`, keeping its header and signature.
fn with_edited_claims(token: &str, edit: impl Fn(&mut serde_json::Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT");
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    edit(&mut claims);
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    format!("{}.{claims}.{}", parts[0], parts[2])
}

/// `token` with an unsigned header (`alg: none`) and no signature.
fn unsigned(token: &str) -> String {
    let claims = token.split('.').nth(1).expect("a JWT");
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{claims}.")
}

fn assert_unauthorized(err: &Error, what: &str) {
    assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{what}: {err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{what}: {err}");
    assert!(!err.is_retryable(), "{what}: {err}");
    assert!(
        !err.is_outcome_unknown(),
        "{what}: a refusal is a definite answer: {err}"
    );
}

#[tokio::test]
async fn expired_foreign_forged_and_unsigned_tokens_are_unauthorized_and_change_nothing() {
    let sandbox = sandbox().await;
    sandbox
        .add_user("token-admin", &["Administrator"])
        .await
        .unwrap();
    sandbox.add_user("token-reader", &["Reader"]).await.unwrap();
    let reader_token = sandbox.mint_token("token-reader");
    let tokens = [
        (
            "expired",
            sandbox.mint_token_with(&TokenSpec::new("token-admin").expired()),
        ),
        (
            "another audience",
            sandbox.mint_token_with(
                &TokenSpec::new("token-admin").audience("https://vault.azure.net"),
            ),
        ),
        (
            "signed by another key",
            sandbox.mint_token_with(&TokenSpec::new("token-admin").badly_signed()),
        ),
        (
            "claims edited after signing",
            with_edited_claims(&reader_token, |claims| {
                claims["oid"] = "token-admin".into();
                claims["sub"] = "token-admin".into();
            }),
        ),
        (
            "lifetime extended after signing",
            with_edited_claims(
                &sandbox.mint_token_with(&TokenSpec::new("token-admin").expired()),
                |claims| {
                    let exp = claims["exp"].as_i64().unwrap();
                    claims["exp"] = (exp + 7200).into();
                },
            ),
        ),
        ("unsigned", unsigned(&sandbox.mint_token("token-admin"))),
    ];
    let proxy = counting_proxy(&sandbox).await;
    let mut calls = 0u64;
    for (what, token) in &tokens {
        let client = within(
            builder_at(&sandbox, &proxy.endpoint())
                .credential(StaticTokenCredential::new(token.clone()))
                .build(),
        )
        .await
        .expect("the client builds");
        let write = within(client.create_ledger_entry("must not be written", None)).await;
        assert_unauthorized(&write.expect_err("a write"), what);
        let read = within(client.get_current_ledger_entry(None)).await;
        assert_unauthorized(&read.expect_err("a read"), what);
        let grant = within(client.create_or_update_ledger_user(
            "token-reader",
            &[LedgerRole::Administrator],
            None,
        ))
        .await;
        assert_unauthorized(&grant.expect_err("a grant"), what);
        calls += 3;
    }
    // Each call was sent once: a 401 is final.
    assert_eq!(proxy.stats().requests, calls, "{:?}", proxy.stats());
    assert_eq!(proxy.stats().faults(), 0);

    // Nothing changed: no entry, and the Reader is still only a Reader.
    let admin = admin(&sandbox).await;
    let entries: Vec<_> = within(admin.list_ledger_entries(None).try_collect::<Vec<_>>())
        .await
        .unwrap();
    assert!(entries.is_empty(), "{entries:?}");
    let reader = within(admin.get_ledger_user("token-reader", None))
        .await
        .unwrap();
    assert_eq!(reader.assigned_roles, [LedgerRole::Reader]);
    // The genuine tokens work (so the refusals above were about the tokens).
    let genuine = within(
        builder_at(&sandbox, &proxy.endpoint())
            .credential(StaticTokenCredential::new(reader_token))
            .build(),
    )
    .await
    .unwrap();
    let err = within(genuine.get_current_ledger_entry(None))
        .await
        .expect_err("an empty ledger");
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
}

/// A client certificate and key for a new principal.
fn new_certificate() -> CertificateCredential {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = CertificateParams::new(vec!["contributor.example".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    CertificateCredential::from_pem_parts(cert.pem(), key.serialize_pem()).unwrap()
}

fn assert_forbidden(err: &Error, who: &str, what: &str) {
    assert!(
        matches!(err.kind(), ErrorKind::Forbidden { .. }),
        "{who}: {what}: {err}"
    );
    assert!(!err.is_retryable(), "{who}: {what}: {err}");
}

/// Everything a Contributor may not do; each must be `Forbidden`.
async fn user_management_is_forbidden(client: &ConfidentialLedgerClient, own_id: &str, who: &str) {
    let err =
        within(client.create_or_update_ledger_user(own_id, &[LedgerRole::Administrator], None))
            .await
            .expect_err("promoting itself");
    assert_forbidden(&err, who, "promoting itself");
    let err =
        within(client.create_or_update_ledger_user("someone-new", &[LedgerRole::Reader], None))
            .await
            .expect_err("adding a user");
    assert_forbidden(&err, who, "adding a user");
    let err = within(client.delete_ledger_user("victim", None))
        .await
        .expect_err("deleting a user");
    assert_forbidden(&err, who, "deleting a user");
    let err = within(client.get_ledger_user("victim", None))
        .await
        .expect_err("reading a user");
    assert_forbidden(&err, who, "reading a user");
    let err = within(client.list_ledger_users(None).try_collect::<Vec<_>>())
        .await
        .expect_err("listing users");
    assert_forbidden(&err, who, "listing users");
    let role = UserDefinedRole::new(
        "escalate",
        ["Microsoft.ConfidentialLedger/ledger/users/write"],
    );
    let err = within(client.create_user_defined_role(&[role], None))
        .await
        .expect_err("defining a role");
    assert_forbidden(&err, who, "defining a role");
    let err = within(client.delete_user_defined_role("existing-role", None))
        .await
        .expect_err("deleting a role");
    assert_forbidden(&err, who, "deleting a role");
}

#[tokio::test]
async fn a_contributor_writes_but_cannot_manage_users_or_roles_nor_promote_itself() {
    let sandbox = sandbox().await;
    let admin = admin(&sandbox).await;
    within(admin.create_or_update_ledger_user("victim", &[LedgerRole::Reader], None))
        .await
        .unwrap();
    let role = UserDefinedRole::new(
        "existing-role",
        ["Microsoft.ConfidentialLedger/ledger/read"],
    );
    within(admin.create_user_defined_role(&[role], None))
        .await
        .unwrap();

    let by_token = token_user(&sandbox, "contributor-oid", &["Contributor"]).await;
    let certificate = new_certificate();
    let fingerprint = certificate.user_id().to_owned();
    sandbox
        .add_user(&fingerprint, &["Contributor"])
        .await
        .unwrap();
    let by_certificate = within(
        builder_at(&sandbox, &sandbox.ledger_endpoint())
            .certificate_credential(certificate)
            .build(),
    )
    .await
    .unwrap();

    for (who, client, own_id) in [
        ("token", &by_token, "contributor-oid"),
        ("certificate", &by_certificate, fingerprint.as_str()),
    ] {
        // What a Contributor may do, it does.
        let written = within(client.create_ledger_entry_and_wait(format!("by {who}"), None))
            .await
            .unwrap_or_else(|e| panic!("{who}: a Contributor writes: {e}"));
        let entry = within(client.get_ledger_entry(written.transaction_id, None))
            .await
            .unwrap();
        assert_eq!(entry.contents, format!("by {who}"));
        user_management_is_forbidden(client, own_id, who).await;
    }

    // Nothing changed.
    let users: Vec<_> = within(admin.list_ledger_users(None).try_collect::<Vec<_>>())
        .await
        .unwrap();
    let roles_of = |id: &str| {
        users
            .iter()
            .find(|u| u.user_id == id)
            .map(|u| u.assigned_roles.clone())
    };
    assert_eq!(
        roles_of("contributor-oid"),
        Some(vec![LedgerRole::Contributor])
    );
    assert_eq!(roles_of(&fingerprint), Some(vec![LedgerRole::Contributor]));
    assert_eq!(roles_of("victim"), Some(vec![LedgerRole::Reader]));
    assert_eq!(roles_of("someone-new"), None);
    let role = within(admin.get_user_defined_role("existing-role", None))
        .await
        .expect("the role is still there");
    assert_eq!(role.role_name, "existing-role");
    let err = within(admin.get_user_defined_role("escalate", None))
        .await
        .expect_err("no such role");
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
}

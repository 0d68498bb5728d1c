//! Users, roles and access: ledger users, legacy users, user-defined roles, and what a
//! principal is told when it may not do something.

// The deprecated legacy user calls (`get_user`, `create_or_update_user`, ...) are exercised on
// purpose: they must keep working on the api-versions that serve them.
#![allow(deprecated)]

use confidential_ledger::models::{LedgerRole, UserDefinedRole};
use confidential_ledger::{CertificateCredential, ClientOptions, ErrorKind};
use confidential_ledger_sandbox::SandboxOptions;
use futures::TryStreamExt;

use crate::support::{
    admin, admin_certificate, builder, sandbox, sandbox_with, token_user, within,
};

const OID: &str = "0f6b1e29-1111-4000-8000-000000000001";

#[tokio::test]
async fn ledger_users_hold_several_roles_and_are_listed_page_by_page() {
    let sandbox = sandbox_with(SandboxOptions::for_tests().page_size(2)).await;
    let client = admin(&sandbox).await;

    let user = within(client.create_or_update_ledger_user(
        OID,
        &[LedgerRole::Contributor, LedgerRole::Reader],
        None,
    ))
    .await
    .unwrap();
    assert_eq!(user.user_id, OID);
    let mut roles = user.assigned_roles.clone();
    roles.sort();
    assert_eq!(roles, [LedgerRole::Contributor, LedgerRole::Reader]);

    // A certificate user, by fingerprint (hex pairs and colons, sent as they are).
    let fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
    within(client.create_or_update_ledger_user(fingerprint, &[LedgerRole::Reader], None))
        .await
        .unwrap();
    let read_back = within(client.get_ledger_user(fingerprint, None))
        .await
        .unwrap();
    assert_eq!(read_back.user_id, fingerprint);
    assert_eq!(read_back.assigned_roles, [LedgerRole::Reader]);

    // Replace the roles (a merge patch).
    within(client.create_or_update_ledger_user(OID, &[LedgerRole::Administrator], None))
        .await
        .unwrap();
    let updated = within(client.get_ledger_user(OID, None)).await.unwrap();
    assert_eq!(updated.assigned_roles, [LedgerRole::Administrator]);

    // The admin, OID and the fingerprint, over pages of two.
    let mut ids: Vec<String> = within(
        client
            .list_ledger_users(None)
            .map_ok(|u| u.user_id)
            .try_collect(),
    )
    .await
    .unwrap();
    ids.sort();
    let mut expected = vec![
        sandbox.admin_user_id(),
        OID.to_owned(),
        fingerprint.to_owned(),
    ];
    expected.sort();
    assert_eq!(ids, expected);
    let pages: Vec<usize> = within(
        client
            .list_ledger_users(None)
            .into_pages()
            .map_ok(|p| p.items().len())
            .try_collect(),
    )
    .await
    .unwrap();
    assert_eq!(pages, [2, 1]);

    within(client.delete_ledger_user(OID, None)).await.unwrap();
    let err = within(client.get_ledger_user(OID, None)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    assert_eq!(err.operation(), Some("get_ledger_user"));
}

#[tokio::test]
async fn a_token_principal_that_is_not_a_user_is_named_and_told_what_to_do() {
    let sandbox = sandbox().await;
    let stranger = token_user(&sandbox, "5e1e7c2a-0000-4000-8000-00000000aaaa", &[]).await;
    let err = within(stranger.create_ledger_entry("hello?", None))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Forbidden {
            principal: Some("5e1e7c2a-0000-4000-8000-00000000aaaa".into())
        },
        "{err}"
    );
    assert_eq!(err.error_code(), Some("NotAllowed"));
    let text = err.to_string();
    assert!(
        text.contains(
            "the principal 5e1e7c2a-0000-4000-8000-00000000aaaa is not a user of this ledger"
        ),
        "{text}"
    );
    assert!(text.contains("create_or_update_ledger_user"), "{text}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_certificate_principal_that_is_not_a_user_is_named_by_fingerprint() {
    let sandbox = sandbox().await;
    let generated = rcgen::generate_simple_self_signed(vec!["stranger".to_owned()]).unwrap();
    let credential = CertificateCredential::from_pem_parts(
        generated.cert.pem(),
        generated.signing_key.serialize_pem(),
    )
    .unwrap();
    let fingerprint = credential.user_id().to_owned();
    let client = within(builder(&sandbox).certificate_credential(credential).build())
        .await
        .unwrap();
    let err = within(client.get_current_ledger_entry(None))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Forbidden {
            principal: Some(fingerprint.clone())
        },
        "{err}"
    );
    assert!(err.to_string().contains(&fingerprint), "{err}");

    // Once added, the same certificate works.
    let admin = admin(&sandbox).await;
    within(admin.create_or_update_ledger_user(&fingerprint, &[LedgerRole::Reader], None))
        .await
        .unwrap();
    let err = within(client.get_current_ledger_entry(None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "an empty ledger: {err}");
}

#[tokio::test]
async fn a_reader_reads_but_cannot_write() {
    let sandbox = sandbox().await;
    let admin = admin(&sandbox).await;
    let written = within(admin.create_ledger_entry_and_wait("for readers", None))
        .await
        .unwrap();
    let reader = token_user(&sandbox, "reader-oid", &["Reader"]).await;
    let entry = within(reader.get_ledger_entry(written.transaction_id, None))
        .await
        .unwrap();
    assert_eq!(entry.contents, "for readers");
    let err = within(reader.create_ledger_entry("not allowed", None))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Forbidden { .. }), "{err}");
    assert_eq!(err.operation(), Some("create_ledger_entry"));
    // It did not write.
    let current = within(reader.get_current_ledger_entry(None)).await.unwrap();
    assert_eq!(current.transaction_id, written.transaction_id);
    // Nor may it manage users.
    let err = within(reader.create_or_update_ledger_user("x", &[LedgerRole::Administrator], None))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Forbidden { .. }), "{err}");
}

#[tokio::test]
async fn legacy_users_need_an_older_api_version() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let err = within(client.get_user(OID, None)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ApiVersionRedirect, "{err}");
    assert!(
        err.to_string().contains("use the ledger-user calls"),
        "{err}"
    );
    let err = within(client.list_users(None).try_collect::<Vec<_>>())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ApiVersionRedirect, "{err}");

    // Recorded real ledgers redirect the legacy calls already at 2024-08-22-preview.
    let options = ClientOptions {
        api_version: "2022-05-13".into(),
        ..Default::default()
    };
    let legacy = within(
        builder(&sandbox)
            .certificate_credential(admin_certificate(&sandbox))
            .options(options)
            .build(),
    )
    .await
    .unwrap();
    let user = within(legacy.create_or_update_user(OID, LedgerRole::Contributor, None))
        .await
        .unwrap();
    assert_eq!(user.assigned_role, LedgerRole::Contributor);
    let read = within(legacy.get_user(OID, None)).await.unwrap();
    assert_eq!(read, user);
    let listed: Vec<_> = within(legacy.list_users(None).try_collect()).await.unwrap();
    assert!(listed.iter().any(|u| u.user_id == OID), "{listed:?}");
    within(legacy.delete_user(OID, None)).await.unwrap();
    let err = within(legacy.get_user(OID, None)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn user_defined_roles_are_created_changed_assigned_and_deleted() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let auditor = UserDefinedRole::new("Auditor", ["/content/read"]);
    let created = within(client.create_user_defined_role(std::slice::from_ref(&auditor), None))
        .await
        .unwrap();
    assert_eq!(created, std::slice::from_ref(&auditor));
    assert_eq!(
        within(client.get_user_defined_role("Auditor", None))
            .await
            .unwrap(),
        auditor
    );

    let wider = UserDefinedRole::new("Auditor", ["/content/read", "/receipts/read"]);
    within(client.update_user_defined_role(std::slice::from_ref(&wider), None))
        .await
        .unwrap();
    assert_eq!(
        within(client.get_user_defined_role("Auditor", None))
            .await
            .unwrap(),
        wider
    );

    let user =
        within(client.create_or_update_ledger_user(OID, &[LedgerRole::from("Auditor")], None))
            .await
            .unwrap();
    assert_eq!(user.assigned_roles, [LedgerRole::Custom("Auditor".into())]);

    within(client.delete_user_defined_role("Auditor", None))
        .await
        .unwrap();
    let err = within(client.get_user_defined_role("Auditor", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    let err = within(client.update_user_defined_role(&[wider], None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
}

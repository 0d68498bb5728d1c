//! User ids with `:` and unusual characters round-trip through every user call.
//!
//! The service matches routes against the raw path and decodes path parameters with CCF's URL
//! decoding, in which `%XX` is a byte and `+` is a space; the sandbox decodes them the same way.
//! So the client must percent-encode what is not a plain path character, `+` included, and
//! must not refuse ids it can encode. Each id below is created (by an Administrator, with a
//! bearer token and with a client certificate), read back, listed, changed, used to
//! authenticate (as a token's object id: the id a principal really has), and deleted; a `+` id
//! and its look-alike with a space stay two different users. Ids that no URL can carry as
//! one path segment (a `\`, which URL parsing turns into `/`, and the segments `.` and `..`,
//! which it removes) are refused before anything is sent.
//!
//! Checks of the sandbox's decoding alone are in `sandbox/tests/api.rs`; the client's input
//! checks in `src/validate.rs`.

// The deprecated legacy user calls (`get_user`, `create_or_update_user`, ...) are exercised on
// purpose: they must keep working on the api-versions that serve them.
#![allow(deprecated)]

use confidential_ledger::models::LedgerRole;
use confidential_ledger::{
    CertificateCredential, ConfidentialLedgerClient, ErrorKind, StaticTokenCredential,
};
use futures::TryStreamExt;
use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256};

use crate::support::{admin, builder_at, counting_proxy, sandbox, token_for, token_user, within};

/// A fresh certificate's fingerprint: the id of a certificate user.
fn fingerprint() -> String {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = CertificateParams::new(vec!["user.example".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    CertificateCredential::from_pem_parts(cert.pem(), key.serialize_pem())
        .unwrap()
        .user_id()
        .to_owned()
}

fn unusual_ids() -> Vec<String> {
    let mut ids = vec![fingerprint(), fingerprint().to_lowercase()];
    ids.extend(
        [
            "0f6b1e29-0000-4000-8000-000000000000",
            "with space",
            "two  spaces",
            "slash/inside",
            "/leading-slash",
            "percent%20literal",
            "100%",
            "%2F-looks-encoded",
            "plus+sign",
            "+",
            "hash#tag",
            "question?mark=1&x",
            "unicodé-用户-🙂",
            "semi;colon,comma",
            "at@sign:colon",
            "tilde~dot.",
            "...",
            ".hidden",
            "quote\"'",
            "angle<>brackets[]curly{}",
            "pipe|caret^`tick`",
        ]
        .map(str::to_owned),
    );
    ids
}

async fn round_trip(client: &ConfidentialLedgerClient, who: &str, id: &str) {
    let created = within(client.create_or_update_ledger_user(id, &[LedgerRole::Reader], None))
        .await
        .unwrap_or_else(|e| panic!("{who}: creating {id:?}: {e}"));
    assert_eq!(created.user_id, id, "{who}: created");
    let got = within(client.get_ledger_user(id, None))
        .await
        .unwrap_or_else(|e| panic!("{who}: reading {id:?}: {e}"));
    assert_eq!(got.user_id, id, "{who}: read");
    assert_eq!(got.assigned_roles, [LedgerRole::Reader], "{who}: {id:?}");
    let changed = within(client.create_or_update_ledger_user(
        id,
        &[LedgerRole::Reader, LedgerRole::Contributor],
        None,
    ))
    .await
    .unwrap_or_else(|e| panic!("{who}: changing {id:?}: {e}"));
    assert_eq!(changed.user_id, id);
    let listed: Vec<_> = within(client.list_ledger_users(None).try_collect::<Vec<_>>())
        .await
        .unwrap();
    let matching: Vec<_> = listed.iter().filter(|u| u.user_id == id).collect();
    assert_eq!(matching.len(), 1, "{who}: {id:?} listed once in {listed:?}");
    assert_eq!(
        matching[0].assigned_roles,
        [LedgerRole::Reader, LedgerRole::Contributor]
    );
    within(client.delete_ledger_user(id, None))
        .await
        .unwrap_or_else(|e| panic!("{who}: deleting {id:?}: {e}"));
    let err = within(client.get_ledger_user(id, None))
        .await
        .expect_err("deleted");
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{who}: {id:?}: {err}");
}

#[tokio::test]
async fn unusual_user_ids_round_trip_through_every_user_call() {
    let sandbox = sandbox().await;
    let by_certificate = admin(&sandbox).await;
    let by_token = token_user(&sandbox, "user-admin", &["Administrator"]).await;
    for id in unusual_ids() {
        round_trip(&by_certificate, "certificate", &id).await;
        round_trip(&by_token, "token", &id).await;
    }
    // Only the two administrators are left: nothing was created under a mangled id.
    let left: Vec<_> = within(by_token.list_ledger_users(None).try_collect::<Vec<_>>())
        .await
        .unwrap();
    let mut ids: Vec<_> = left.into_iter().map(|u| u.user_id).collect();
    ids.sort();
    let mut expected = vec![sandbox.admin_user_id(), "user-admin".to_owned()];
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn a_plus_and_a_space_name_two_users() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    within(client.create_or_update_ledger_user("a+b", &[LedgerRole::Reader], None))
        .await
        .unwrap();
    within(client.create_or_update_ledger_user("a b", &[LedgerRole::Contributor], None))
        .await
        .unwrap();
    let plus = within(client.get_ledger_user("a+b", None)).await.unwrap();
    let space = within(client.get_ledger_user("a b", None)).await.unwrap();
    assert_eq!(plus.assigned_roles, [LedgerRole::Reader]);
    assert_eq!(space.assigned_roles, [LedgerRole::Contributor]);
    within(client.delete_ledger_user("a+b", None))
        .await
        .unwrap();
    within(client.get_ledger_user("a b", None))
        .await
        .expect("deleting a+b leaves a b alone");
}

/// A principal whose object id has unusual characters is the user of that id: the id the
/// client manages is the id the ledger authorises.
#[tokio::test]
async fn a_principal_with_an_unusual_id_is_the_user_the_client_created() {
    let sandbox = sandbox().await;
    let admin = admin(&sandbox).await;
    for oid in ["plus+oid/with#odd?chars", "ünïcode oid 🙂"] {
        within(admin.create_or_update_ledger_user(oid, &[LedgerRole::Contributor], None))
            .await
            .unwrap();
        let client = within(
            builder_at(&sandbox, &sandbox.ledger_endpoint())
                .credential(StaticTokenCredential::new(sandbox.mint_token(oid)))
                .build(),
        )
        .await
        .unwrap();
        within(client.create_ledger_entry_and_wait(format!("written by {oid}"), None))
            .await
            .unwrap_or_else(|e| panic!("{oid}: {e}"));
        within(admin.delete_ledger_user(oid, None)).await.unwrap();
        let err = within(client.create_ledger_entry("no longer a user", None))
            .await
            .expect_err("deleted");
        assert!(
            matches!(err.kind(), ErrorKind::Forbidden { .. }),
            "{oid}: {err}"
        );
    }
}

#[tokio::test]
async fn ids_no_url_path_can_carry_are_refused_before_sending() {
    let sandbox = sandbox().await;
    let proxy = counting_proxy(&sandbox).await;
    let client = within(
        builder_at(&sandbox, &proxy.endpoint())
            .credential(StaticTokenCredential::new(
                token_for(&sandbox, "user-admin", &["Administrator"]).await,
            ))
            .build(),
    )
    .await
    .unwrap();
    for id in ["back\\slash", ".", ".."] {
        for err in [
            within(client.get_ledger_user(id, None)).await.unwrap_err(),
            within(client.delete_ledger_user(id, None))
                .await
                .unwrap_err(),
            within(client.create_or_update_ledger_user(id, &[LedgerRole::Reader], None))
                .await
                .unwrap_err(),
            within(client.get_user(id, None)).await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{id:?}: {err}");
        }
    }
    assert_eq!(proxy.stats().requests, 0, "nothing was sent");
}

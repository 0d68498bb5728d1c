//! Building clients: the identity lookup, given certificates, pin mismatches and their
//! refresh, and the checks made before anything is sent.

use confidential_ledger::tls::PinnedCertificate;
use confidential_ledger::{
    ConfidentialLedgerClient, ErrorKind, IdentityServiceClient, StaticTokenCredential,
};
use futures::TryStreamExt;

use crate::support::{admin, admin_certificate, builder, fast_options, sandbox, within};

fn pin_of(pem: &str) -> PinnedCertificate {
    PinnedCertificate::from_pem(pem).unwrap()
}

#[tokio::test]
async fn the_certificate_is_fetched_from_the_identity_service_and_pinned() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    assert_eq!(
        client.service_certificate(),
        pin_of(&sandbox.service_certificate_pem())
    );
    assert_eq!(client.ledger_id(), "sandbox");
    let constitution = within(client.get_constitution(None)).await.unwrap();
    assert!(constitution.digest_matches());
    let shown = format!("{client:?}");
    assert!(
        shown.contains("identity service https://127.0.0.1:"),
        "{shown}"
    );
}

#[tokio::test]
async fn the_identity_service_client_works_alone() {
    let sandbox = sandbox().await;
    let roots = confidential_ledger::identity::IdentityRoots::new()
        .add_pem(sandbox.identity_ca_certificate_pem())
        .unwrap();
    let identity =
        IdentityServiceClient::with_roots(sandbox.identity_endpoint(), None, &roots).unwrap();
    let found = within(identity.get_ledger_identity("sandbox", None))
        .await
        .unwrap();
    assert_eq!(found.ledger_id, "sandbox");
    assert_eq!(
        found.pinned_certificate().unwrap(),
        pin_of(&sandbox.service_certificate_pem())
    );

    let err = within(identity.get_ledger_identity("another-ledger", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    assert_eq!(err.error_code(), Some("LedgerNotFound"));
    assert_eq!(err.client_request_id().map(str::len), Some(36), "{err:?}");
    // The caller's client request id, on the identity service too.
    let err = within(
        identity.get_ledger_identity(
            "another-ledger",
            Some(
                confidential_ledger::identity::GetLedgerIdentityOptions::new()
                    .client_request_id("id-lookup-1"),
            ),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.client_request_id(), Some("id-lookup-1"));

    let err = within(identity.get_ledger_identity("a/b", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{err}");

    // Plain http only on loopback: a certificate fetched in the clear could be anyone's.
    let err = IdentityServiceClient::new("http://identity.example.com", None).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput);
    assert!(err.to_string().contains("loopback"), "{err}");
}

#[tokio::test]
async fn an_unknown_ledger_id_fails_the_build() {
    let sandbox = sandbox().await;
    let err = within(
        builder(&sandbox)
            .ledger_id("not-this-one")
            .certificate_credential(admin_certificate(&sandbox))
            .build(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn endpoints_are_checked_before_anything_is_sent() {
    for (endpoint, expected) in [
        ("http://my-ledger.confidential-ledger.azure.com", "https"),
        ("https://127.0.0.1:8443", "ledger_id()"),
        ("not a url", "not a URL"),
    ] {
        let err = within(
            ConfidentialLedgerClient::builder(endpoint)
                .anonymous()
                .build(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{endpoint}: {err}");
        assert!(err.to_string().contains(expected), "{endpoint}: {err}");
    }
    let err = within(
        ConfidentialLedgerClient::builder("https://my-ledger.confidential-ledger.azure.com")
            .service_certificate_pem("not a certificate")
            .anonymous()
            .build(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("given to the client"), "{err}");
}

#[tokio::test]
async fn a_given_certificate_is_pinned_without_a_lookup() {
    let sandbox = sandbox().await;
    // The identity endpoint is the public default: it is never contacted.
    let from_pem = ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
        .service_certificate_pem(format!("{}\0\0", sandbox.service_certificate_pem()))
        .certificate_credential(admin_certificate(&sandbox))
        .options(fast_options())
        .build();
    let from_pem = within(from_pem).await.unwrap();
    within(from_pem.get_enclave_quotes(None)).await.unwrap();

    let from_file = ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
        .service_certificate_file(sandbox.service_certificate_path())
        .certificate_credential(admin_certificate(&sandbox))
        .options(fast_options())
        .build();
    let from_file = within(from_file).await.unwrap();
    within(from_file.get_enclave_quotes(None)).await.unwrap();
    let err = within(from_file.refresh_service_certificate())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_wrong_given_certificate_is_a_pin_mismatch_and_stays_one() {
    let sandbox = sandbox().await;
    let other = crate::support::sandbox().await;
    let client = ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
        .service_certificate_pem(other.service_certificate_pem())
        .certificate_credential(admin_certificate(&sandbox))
        .options(fast_options())
        .build();
    let client = within(client).await.unwrap();
    let err = within(client.create_ledger_entry("never sent", None))
        .await
        .unwrap_err();
    let ErrorKind::PinMismatch(mismatch) = err.kind() else {
        panic!("expected a pin mismatch, got {err}");
    };
    assert_eq!(
        mismatch.pinned_fingerprint(),
        pin_of(&other.service_certificate_pem()).fingerprint()
    );
    assert!(err.is_connect());
    let text = err.to_string();
    assert!(
        text.contains("given to the client, which never replaces it"),
        "{text}"
    );
    // Nothing reached the ledger.
    let reader = admin(&sandbox).await;
    let current = within(reader.get_current_ledger_entry(None)).await;
    assert_eq!(current.unwrap_err().kind(), &ErrorKind::NotFound);
}

#[tokio::test]
async fn a_rotated_certificate_is_fetched_again_and_the_call_retried() {
    let sandbox = sandbox().await;
    let writer = admin(&sandbox).await;
    let before = within(writer.create_ledger_entry_and_wait("before", None))
        .await
        .unwrap();
    // A client that pinned the certificate and has not connected to the ledger yet: its
    // first handshake sees the rotation.
    let client = admin(&sandbox).await;
    let old_pin = client.service_certificate();

    sandbox.rotate_service_identity().await.unwrap();
    let new_pin = pin_of(&sandbox.service_certificate_pem());
    assert_ne!(old_pin, new_pin);

    // A write: the handshake fails the pin, the client fetches the identity again, connects
    // with the new pin and sends the write, which had not been sent.
    let after = within(client.create_ledger_entry_and_wait("after", None))
        .await
        .unwrap();
    assert_eq!(client.service_certificate(), new_pin);
    assert!(after.transaction_id > before.transaction_id);
    let contents: Vec<String> = within(
        client
            .list_ledger_entries(None)
            .map_ok(|e| e.contents)
            .try_collect(),
    )
    .await
    .unwrap();
    assert_eq!(contents, ["before", "after"]);

    // Receipts from before and after the rotation verify against the new pin (the old one
    // through the receipt's service endorsements).
    for id in [before.transaction_id, after.transaction_id] {
        let proof = within(client.get_verified_receipt(id, None)).await.unwrap();
        assert_eq!(proof.verified.transaction_id, Some(id.to_string()));
    }
    assert!(!within(client.refresh_service_certificate()).await.unwrap());

    // The same rotation with a certificate given to the client is an error.
    let fixed = within(
        ConfidentialLedgerClient::builder(sandbox.ledger_endpoint())
            .service_certificate(old_pin)
            .certificate_credential(admin_certificate(&sandbox))
            .options(fast_options())
            .build(),
    )
    .await
    .unwrap();
    let err = within(fixed.get_current_ledger_entry(None))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::PinMismatch(_)), "{err}");
}

#[tokio::test]
async fn a_client_on_a_kept_connection_refreshes_for_a_receipt_of_the_new_identity() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    within(client.create_ledger_entry_and_wait("warm the connection", None))
        .await
        .unwrap();
    sandbox.rotate_service_identity().await.unwrap();
    let new_pin = pin_of(&sandbox.service_certificate_pem());

    let written = within(client.create_ledger_entry_and_wait("after", None))
        .await
        .unwrap();
    let receipt = within(client.get_receipt(written.transaction_id, None))
        .await
        .unwrap();
    if client.service_certificate() == new_pin {
        // The connection was not kept: the handshake saw the rotation and refreshed the pin.
        client.verify_receipt(&receipt, None).unwrap();
    } else {
        // The kept connection hid the rotation: the receipt does not chain to the old pin...
        let err = client.verify_receipt(&receipt, None).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidReceipt, "{err}");
        // ...and fetching it verified makes the client look the identity up again.
        let proof = within(client.get_verified_receipt(written.transaction_id, None))
            .await
            .unwrap();
        assert_eq!(proof.receipt, receipt);
        assert_eq!(client.service_certificate(), new_pin);
    }
}

#[tokio::test]
async fn refreshing_by_hand_says_whether_the_pin_changed() {
    let sandbox = sandbox().await;
    let client = within(
        builder(&sandbox)
            .credential(StaticTokenCredential::new(sandbox.mint_token("nobody")))
            .build(),
    )
    .await
    .unwrap();
    assert!(!within(client.refresh_service_certificate()).await.unwrap());
    sandbox.rotate_service_identity().await.unwrap();
    assert!(within(client.refresh_service_certificate()).await.unwrap());
    assert_eq!(
        client.service_certificate(),
        pin_of(&sandbox.service_certificate_pem())
    );
}

#[tokio::test]
async fn a_client_without_a_credential_is_refused_unless_asked_to_be_anonymous() {
    let sandbox = sandbox().await;
    let err = within(builder(&sandbox).build()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Credential, "{err}");
    assert!(err.to_string().contains("anonymous()"), "{err}");

    // Asked for: it builds, and the ledger refuses what it sends.
    let anonymous = within(builder(&sandbox).anonymous().build()).await.unwrap();
    let err = within(anonymous.get_current_ledger_entry(None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{err}");
    assert!(format!("{:?}", builder(&sandbox).anonymous()).contains("anonymous"));

    // A credential given after anonymous() wins.
    let client = within(
        builder(&sandbox)
            .anonymous()
            .certificate_credential(admin_certificate(&sandbox))
            .build(),
    )
    .await
    .unwrap();
    within(client.get_constitution(None)).await.unwrap();
    sandbox.shutdown().await;
}

//! The receipt a real ledger returned (recorded by the official Python client's test suite)
//! verifies against the service certificate recorded in the same session.

use confidential_ledger::receipt::{
    ReceiptError, ReceiptResponse, ReceiptState, ReceiptVerifier, VerifyOptions, verify,
};
use serde_json::Value;

const RECORDING: &str = "recordings/python/test_confidential_ledger_client.pyTestConfidentialLedgerClienttest_append_entry_flow_aad_user.json";

/// (service certificate PEM, receipt response bodies in order) from the recording.
fn recorded() -> Option<(String, Vec<String>)> {
    let path = testkit::shared::path(RECORDING)?;
    let text = std::fs::read_to_string(&path).expect("recording is readable");
    let session: Value = serde_json::from_str(&text).expect("recording is JSON");
    let entries = session["Entries"]
        .as_array()
        .expect("recording has entries");
    let mut cert = None;
    let mut receipts = Vec::new();
    for e in entries {
        let uri = e["RequestUri"].as_str().unwrap_or_default();
        if uri.contains("/ledgerIdentity/") {
            cert = e["ResponseBody"]["ledgerTlsCertificate"]
                .as_str()
                .map(str::to_owned);
        }
        if uri.contains("/receipt") {
            receipts.push(e["ResponseBody"].to_string());
        }
    }
    Some((cert.expect("recording has the identity response"), receipts))
}

#[test]
fn recorded_receipt_verifies_against_recorded_certificate() {
    let Some((cert, bodies)) = recorded() else {
        return;
    };
    assert_eq!(
        bodies.len(),
        2,
        "one Loading and one Ready receipt response"
    );

    let loading = ReceiptResponse::from_json(&bodies[0]).expect("Loading response parses");
    assert_eq!(loading.state, ReceiptState::Loading);
    assert!(loading.receipt.is_none());

    let ready = ReceiptResponse::from_json(&bodies[1]).expect("Ready response parses");
    assert_eq!(ready.state, ReceiptState::Ready);
    assert_eq!(ready.transaction_id, "8.6032");
    let receipt = ready
        .receipt
        .as_ref()
        .expect("Ready response has a receipt");

    let verifier = ReceiptVerifier::new(&cert).expect("recorded service certificate is usable");
    let verified = verifier
        .verify_response(&ready, &VerifyOptions::new())
        .expect("recorded receipt verifies");
    assert_eq!(verified.transaction_id.as_deref(), Some("8.6032"));
    assert_eq!(
        verified.node_id.to_string(),
        "65f1797f0b4c103af76e61641438cdfc8098b2f737ff8ba267eaa71ff57afe4c"
    );
    assert_eq!(verified.claims_digest.map(|d| d.is_zero()), Some(true));

    // The one-shot form, with the identity service's trailing NUL, and the explicit id.
    let with_nul = format!("{cert}\0");
    let options = VerifyOptions::new().transaction_id("8.6032");
    assert!(verify(receipt, &with_nul, &options).is_ok());

    // "No claims" holds for this receipt.
    let no_claims = VerifyOptions::new().application_claims(Vec::new());
    assert!(verify(receipt, &cert, &no_claims).is_ok());

    // The wrong transaction is refused.
    let other = VerifyOptions::new().transaction_id("8.6033");
    assert!(matches!(
        verify(receipt, &cert, &other),
        Err(ReceiptError::TransactionId { .. })
    ));

    // The ledger's certificates lived from January to April 2025.
    let in_2025 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_740_000_000);
    assert!(
        verify(
            receipt,
            &cert,
            &VerifyOptions::new().check_validity_at(in_2025)
        )
        .is_ok()
    );
    let in_2026 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_770_000_000);
    assert!(matches!(
        verify(
            receipt,
            &cert,
            &VerifyOptions::new().check_validity_at(in_2026)
        ),
        Err(ReceiptError::CertificateValidity { .. })
    ));
}

#[test]
fn recorded_receipt_round_trips_and_rejects_a_changed_root() {
    let Some((cert, bodies)) = recorded() else {
        return;
    };
    let ready = ReceiptResponse::from_json(&bodies[1]).expect("Ready response parses");
    let receipt = ready.receipt.expect("Ready response has a receipt");
    let again: confidential_ledger::receipt::Receipt =
        serde_json::from_str(&serde_json::to_string(&receipt).expect("serialises"))
            .expect("re-parses");
    assert_eq!(again, receipt);

    let mut tampered = receipt.clone();
    if let confidential_ledger::receipt::ReceiptLeaf::Components(c) = &mut tampered.leaf {
        c.write_set_digest.replace_range(0..1, "b");
    }
    assert!(matches!(
        verify(&tampered, &cert, &VerifyOptions::new()),
        Err(ReceiptError::Signature { .. })
    ));
}

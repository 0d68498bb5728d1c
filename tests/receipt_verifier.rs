//! The caching verifier: receipts sharing a signature reuse it, caches stay within their bounds,
//! failures are never cached, and one verifier serves many threads.

mod receipt_support;

use std::sync::Arc;

use confidential_ledger::receipt::{
    Receipt, ReceiptError, ReceiptResponse, ReceiptState, ReceiptVerifier, VerifierOptions,
    VerifyOptions,
};
use receipt_support::{Curve, fixture};

fn parse(v: serde_json::Value) -> Receipt {
    serde_json::from_value(v).expect("test receipt parses")
}

#[test]
fn verifier_is_send_and_sync() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<ReceiptVerifier>();
    shareable::<ReceiptError>();
}

#[test]
fn receipts_sharing_a_signature_verify_it_once() {
    // 60 transactions under one signature.
    let f = fixture(Curve::P256, Curve::P256, 60, 1000);
    let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
    for seqno in 1..=60 {
        let receipt = parse(f.ledger.receipt(seqno));
        verifier
            .verify(
                &receipt,
                &VerifyOptions::new().transaction_id(f.ledger.tx_id(seqno)),
            )
            .unwrap_or_else(|e| panic!("{seqno}: {e}"));
    }
    let stats = verifier.cache_stats();
    assert_eq!(stats.chains, 1);
    assert_eq!(stats.signatures, 1);
    assert_eq!(stats.chain_hits, 59);
    assert_eq!(stats.signature_hits, 59);
}

#[test]
fn cached_signatures_do_not_vouch_for_other_leaves_nodes_or_transactions() {
    let f = fixture(Curve::P256, Curve::P256, 10, 1000);
    let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
    let good = parse(f.ledger.receipt(3));
    assert!(verifier.verify(&good, &VerifyOptions::new()).is_ok());

    // Same signature, chain and proof, another leaf: a different root, so no cache hit.
    let mut other_leaf = good.clone();
    if let confidential_ledger::receipt::ReceiptLeaf::Components(c) = &mut other_leaf.leaf {
        c.write_set_digest = "0".repeat(64);
    }
    assert!(matches!(
        verifier.verify(&other_leaf, &VerifyOptions::new()),
        Err(ReceiptError::Signature { .. })
    ));
    // The node id, transaction and claims are checked on every receipt, cached or not.
    let mut wrong_node = good.clone();
    wrong_node.node_id = Some("1".repeat(64));
    assert!(matches!(
        verifier.verify(&wrong_node, &VerifyOptions::new()),
        Err(ReceiptError::NodeId { .. })
    ));
    assert!(matches!(
        verifier.verify(&good, &VerifyOptions::new().transaction_id("2.4")),
        Err(ReceiptError::TransactionId { .. })
    ));
    assert!(matches!(
        verifier.verify(
            &good,
            &VerifyOptions::new().application_claims(vec![
                confidential_ledger::receipt::ApplicationClaim::ledger_entry("a", "b", b"c")
            ])
        ),
        Err(ReceiptError::ClaimsDigest { .. })
    ));
    // Only the wrong node id reached the cached signature (and was still rejected); the good
    // receipt still verifies from the cache.
    assert_eq!(verifier.cache_stats().signature_hits, 1);
    assert!(verifier.verify(&good, &VerifyOptions::new()).is_ok());
    assert_eq!(verifier.cache_stats().signature_hits, 2);
    // The same signature and root with another certificate text misses the cache.
    let mut other_cert = good.clone();
    other_cert.cert = other_cert
        .cert
        .replace("-----END CERTIFICATE-----\n", "-----END CERTIFICATE-----");
    assert!(verifier.verify(&other_cert, &VerifyOptions::new()).is_ok());
    assert_eq!(verifier.cache_stats().signature_hits, 2);
    assert_eq!(verifier.cache_stats().chains, 2);
}

#[test]
fn failures_are_not_cached() {
    let f = fixture(Curve::P256, Curve::P256, 4, 1000);
    let other = receipt_support::service(Curve::P256, "other service");
    let verifier = ReceiptVerifier::new(&other.pem).expect("service certificate");
    let receipt = parse(f.ledger.receipt(2));
    for _ in 0..3 {
        assert!(matches!(
            verifier.verify(&receipt, &VerifyOptions::new()),
            Err(ReceiptError::Endorsement { .. })
        ));
    }
    let stats = verifier.cache_stats();
    assert_eq!(
        (stats.chains, stats.signatures, stats.chain_hits),
        (0, 0, 0)
    );

    let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
    let mut bad_sig = receipt.clone();
    // A signature by the right node over another root.
    bad_sig.signature = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(f.node.key.sign_prehash(&[1; 32]))
    };
    for _ in 0..2 {
        assert!(matches!(
            verifier.verify(&bad_sig, &VerifyOptions::new()),
            Err(ReceiptError::Signature { .. })
        ));
    }
    assert_eq!(verifier.cache_stats().signatures, 0);
}

#[test]
fn caches_stay_within_their_capacity() {
    // A signature after every transaction: 40 distinct signatures.
    let f = fixture(Curve::P256, Curve::P256, 40, 1);
    let options = VerifierOptions::new()
        .chain_cache_capacity(2)
        .signature_cache_capacity(8);
    let verifier =
        ReceiptVerifier::with_options(&f.service.pem, options).expect("service certificate");
    for seqno in 1..f.ledger.next_seqno() {
        let receipt = parse(f.ledger.receipt(seqno));
        assert!(verifier.verify(&receipt, &VerifyOptions::new()).is_ok());
        let stats = verifier.cache_stats();
        assert!(stats.signatures <= 8 && stats.chains <= 2, "{stats:?}");
    }
    // Two generations of at most 4: between 4 and 8 entries once full.
    assert!(verifier.cache_stats().signatures >= 4);

    let uncached = VerifierOptions::new()
        .chain_cache_capacity(0)
        .signature_cache_capacity(0);
    let verifier =
        ReceiptVerifier::with_options(&f.service.pem, uncached).expect("service certificate");
    let receipt = parse(f.ledger.receipt(1));
    for _ in 0..3 {
        assert!(verifier.verify(&receipt, &VerifyOptions::new()).is_ok());
    }
    assert_eq!(verifier.cache_stats(), Default::default());

    // Clearing empties both caches; verification still works.
    let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
    assert!(verifier.verify(&receipt, &VerifyOptions::new()).is_ok());
    verifier.clear_cache();
    assert_eq!(
        (
            verifier.cache_stats().chains,
            verifier.cache_stats().signatures
        ),
        (0, 0)
    );
    assert!(verifier.verify(&receipt, &VerifyOptions::new()).is_ok());
}

#[test]
fn one_verifier_serves_many_threads() {
    let f = fixture(Curve::P256, Curve::P384, 64, 16);
    let verifier = Arc::new(ReceiptVerifier::new(&f.service.pem).expect("service certificate"));
    let receipts: Arc<Vec<(String, Receipt)>> = Arc::new(
        (1..f.ledger.next_seqno())
            .filter(|s| f.ledger.signature_at(*s).is_none())
            .map(|s| (f.ledger.tx_id(s), parse(f.ledger.receipt(s))))
            .collect(),
    );
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let verifier = Arc::clone(&verifier);
            let receipts = Arc::clone(&receipts);
            std::thread::spawn(move || {
                for (i, (tx, receipt)) in receipts.iter().enumerate() {
                    if i % 4 == t || i % 3 == 0 {
                        let options = VerifyOptions::new().transaction_id(tx);
                        if let Err(e) = verifier.verify(receipt, &options) {
                            return Err(format!("{tx}: {e}"));
                        }
                    }
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread").expect("all receipts verify");
    }
    let signing: std::collections::BTreeSet<usize> = (1..f.ledger.next_seqno())
        .filter(|s| f.ledger.signature_at(*s).is_none())
        .map(|s| f.ledger.signature_after(s).seqno)
        .collect();
    let stats = verifier.cache_stats();
    assert_eq!(stats.chains, 1);
    assert_eq!(stats.signatures, signing.len());
}

#[test]
fn responses_without_a_receipt_are_not_ready() {
    let f = fixture(Curve::P256, Curve::P256, 2, 1000);
    let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
    let loading = ReceiptResponse::from_json(
        r#"{"receipt": {"nodeId": "", "proof": [], "signature": ""}, "state": "Loading", "transactionId": ""}"#,
    )
    .expect("parses");
    assert!(matches!(
        verifier.verify_response(&loading, &VerifyOptions::new()),
        Err(ReceiptError::NotReady { ref state }) if state == "Loading"
    ));
    let null =
        ReceiptResponse::from_json(r#"{"state": "Loading", "receipt": null}"#).expect("parses");
    assert!(null.receipt.is_none());
    // A Ready response must carry a usable receipt.
    assert!(
        ReceiptResponse::from_json(
            r#"{"state": "Ready", "transactionId": "2.1", "receipt": {"proof": []}}"#
        )
        .is_err()
    );
    // An unknown state is kept.
    let mut v = f.ledger.response(1);
    v["state"] = "Archived".into();
    let r: ReceiptResponse = serde_json::from_value(v).expect("parses");
    assert_eq!(r.state, ReceiptState::Other("Archived".into()));
    assert!(verifier.verify_response(&r, &VerifyOptions::new()).is_ok());
    // The response's own transaction id is checked against the commit evidence.
    let mut v = f.ledger.response(1);
    v["transactionId"] = "2.2".into();
    let r: ReceiptResponse = serde_json::from_value(v).expect("parses");
    assert!(matches!(
        verifier.verify_response(&r, &VerifyOptions::new()),
        Err(ReceiptError::TransactionId { .. })
    ));
}

#[test]
fn oversized_chains_are_verified_but_not_cached() {
    let service = receipt_support::service(Curve::P256, "big service");
    let big = receipt_support::node_with_names(Curve::P256, "big node", &service, 400);
    assert!(big.pem.len() > confidential_ledger::receipt::MAX_CACHED_CHAIN_TEXT);
    let mut ledger = receipt_support::Ledger::new(2);
    ledger.append("x", None);
    ledger.sign(&big, &[]);
    let receipt = parse(ledger.receipt(1));
    let verifier = ReceiptVerifier::from_der(&service.der).expect("service certificate");
    for _ in 0..2 {
        assert!(verifier.verify(&receipt, &VerifyOptions::new()).is_ok());
    }
    let stats = verifier.cache_stats();
    assert_eq!(
        (stats.chains, stats.signatures, stats.chain_hits),
        (0, 0, 0)
    );
}

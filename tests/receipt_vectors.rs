//! Receipts built from scratch (see `receipt_support`) verify, in every shape ledgers send, and
//! each kind of damage is rejected by the step that owns it.

mod receipt_support;

use std::time::{Duration, UNIX_EPOCH};

use confidential_ledger::receipt::{
    ApplicationClaim, CertificateRole, ProofStep, Receipt, ReceiptError, ReceiptLeaf,
    ReceiptResponse, ReceiptVerifier, VerifyOptions, verify,
};
use receipt_support::{Components, Curve, Style, fixture, hex, recovered, sha256};
use serde_json::{Value, json};

fn parse(v: &Value) -> Receipt {
    serde_json::from_value(v.clone()).expect("test receipt parses")
}

#[test]
fn every_receipt_of_a_ledger_verifies_on_every_curve_pair() {
    for (service_curve, node_curve) in [
        (Curve::P256, Curve::P256),
        (Curve::P384, Curve::P384),
        (Curve::P256, Curve::P384),
        (Curve::P384, Curve::P256),
    ] {
        let f = fixture(service_curve, node_curve, 40, 13);
        let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
        let (mut lefts, mut rights) = (0, 0);
        for seqno in 1..f.ledger.next_seqno() {
            let response: ReceiptResponse =
                serde_json::from_value(f.ledger.response(seqno)).expect("response parses");
            let receipt = response.receipt.as_ref().expect("ready");
            for step in &receipt.proof {
                match step {
                    ProofStep::Left(_) => lefts += 1,
                    ProofStep::Right(_) => rights += 1,
                }
            }
            let tx = f.ledger.tx_id(seqno);
            let is_signature = f.ledger.signature_at(seqno).is_some();
            // A signature-transaction receipt names no transaction: only the implicit id of
            // the response applies, and it is skipped.
            let options = if is_signature {
                VerifyOptions::new()
            } else {
                VerifyOptions::new().transaction_id(&tx)
            };
            let verified = verifier
                .verify_response(&response, &options)
                .unwrap_or_else(|e| panic!("{service_curve:?}/{node_curve:?} {tx}: {e}"));
            let sig = f
                .ledger
                .signature_at(seqno)
                .unwrap_or_else(|| f.ledger.signature_after(seqno));
            assert_eq!(verified.root.0, sig.root, "{tx}");
            assert_eq!(verified.node_id.0, f.node.key.node_id(), "{tx}");
            if is_signature {
                assert_eq!(verified.transaction_id, None);
                assert_eq!(verified.leaf.0, sig.root);
            } else {
                assert_eq!(verified.transaction_id.as_deref(), Some(tx.as_str()));
                assert_eq!(verified.leaf.0, f.ledger.leaves[seqno]);
            }
            // The one-shot verifier agrees.
            assert!(verify(receipt, &f.service.pem, &VerifyOptions::new()).is_ok());
        }
        assert!(
            lefts > 20 && rights > 20,
            "proofs use both sides: {lefts} left, {rights} right"
        );
    }
}

#[test]
fn signed_roots_are_the_tree_heads_of_all_previous_leaves() {
    let f = fixture(Curve::P256, Curve::P256, 30, 10);
    for sig in &f.ledger.signatures {
        assert_eq!(
            sig.root,
            receipt_support::mth(&f.ledger.leaves[..sig.seqno])
        );
    }
    assert_eq!(f.ledger.leaves[0], [0; 32], "leaf 0 is 32 zero bytes");
    assert_eq!(f.ledger.signatures.len(), 4);
}

#[test]
fn claims_are_checked_when_given() {
    let f = fixture(Curve::P256, Curve::P256, 6, 6);
    let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
    // Transaction 1 carries a LedgerEntry claim (every third entry, from the first).
    let response: ReceiptResponse =
        serde_json::from_value(f.ledger.response(1)).expect("response parses");
    let claims = response.application_claims.clone().expect("claims sent");
    assert!(
        verifier
            .verify_response(&response, &VerifyOptions::new())
            .is_ok()
    );
    let receipt = response.receipt.as_ref().expect("ready");
    let with = |c: Vec<ApplicationClaim>| VerifyOptions::new().application_claims(c);
    assert!(verifier.verify(receipt, &with(claims.clone())).is_ok());

    let forged = vec![ApplicationClaim::ledger_entry(
        "subledger:0",
        "entry 0!",
        b"secret 0",
    )];
    assert!(matches!(
        verifier.verify(receipt, &with(forged)),
        Err(ReceiptError::ClaimsDigest {
            stated: Some(_),
            ..
        })
    ));
    assert!(matches!(
        verifier.verify(receipt, &with(Vec::new())),
        Err(ReceiptError::ClaimsDigest { .. })
    ));
    // The response's own claims are used unless the options give some.
    let mut wrong = response.clone();
    wrong.application_claims = Some(vec![ApplicationClaim::ledger_entry("x", "y", b"z")]);
    assert!(matches!(
        verifier.verify_response(&wrong, &VerifyOptions::new()),
        Err(ReceiptError::ClaimsDigest { .. })
    ));
    assert!(verifier.verify_response(&wrong, &with(claims)).is_ok());

    // Transaction 2 has no claims: zero digest, and "no claims" holds.
    let plain = parse(&f.ledger.receipt(2));
    assert!(verifier.verify(&plain, &with(Vec::new())).is_ok());
    let some = vec![ApplicationClaim::ledger_entry(
        "subledger:0",
        "entry 1",
        b"k",
    )];
    assert!(matches!(
        verifier.verify(&plain, &with(some)),
        Err(ReceiptError::ClaimsDigest { .. })
    ));
}

#[test]
fn snake_case_receipts_and_unknown_keys_verify() {
    let f = fixture(Curve::P256, Curve::P256, 12, 12);
    let style = Style {
        snake_case: true,
        no_node_id: false,
    };
    let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
    for seqno in [1, 5, 12, 13] {
        let mut v = f.ledger.receipt_styled(seqno, style);
        v["future_field"] = json!({"x": [1, 2]});
        let text = v.to_string();
        assert!(text.contains("is_signature_transaction"));
        let receipt = Receipt::from_json(&text).expect("snake_case receipt parses");
        assert!(receipt.is_signature_transaction.is_some());
        assert_eq!(
            receipt.additional_properties["future_field"],
            json!({"x": [1, 2]})
        );
        verifier
            .verify(&receipt, &VerifyOptions::new())
            .unwrap_or_else(|e| panic!("seqno {seqno}: {e}"));
        // Re-serialised (camelCase) it parses to the same receipt and still verifies.
        let again: Receipt =
            serde_json::from_str(&serde_json::to_string(&receipt).expect("serialises"))
                .expect("re-parses");
        assert_eq!(again, receipt);
    }
    // Snake-case response keys too.
    let mut response = f.ledger.response(3);
    let obj = response.as_object_mut().expect("object");
    let tx = obj.remove("transactionId").expect("id");
    obj.insert("transaction_id".into(), tx);
    let r: ReceiptResponse = serde_json::from_value(response).expect("parses");
    assert_eq!(r.transaction_id, f.ledger.tx_id(3));
}

#[test]
fn optional_fields_may_be_missing() {
    let f = fixture(Curve::P384, Curve::P384, 10, 10);
    let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
    let no_node_id = Style {
        snake_case: false,
        no_node_id: true,
    };
    let receipt = parse(&f.ledger.receipt_styled(4, no_node_id));
    assert!(receipt.node_id.is_none() && receipt.service_endorsements.is_none());
    assert!(verifier.verify(&receipt, &VerifyOptions::new()).is_ok());

    // An empty endorsement list is the same as none.
    let mut v = f.ledger.receipt(4);
    v["serviceEndorsements"] = json!([]);
    assert!(verifier.verify(&parse(&v), &VerifyOptions::new()).is_ok());
}

#[test]
fn old_receipts_without_claims_digest_or_with_a_stated_root_verify() {
    let service = receipt_support::service(Curve::P256, "old service");
    let node = receipt_support::node(Curve::P256, "old node", &service);
    let mut ledger = receipt_support::Ledger::new(1);
    for i in 0..5 {
        let ce = ledger.commit_evidence(ledger.next_seqno());
        ledger.append_components(Components {
            write_set_digest: sha256(&[format!("old {i}").as_bytes()]),
            commit_evidence: ce,
            claims_digest: None,
            claims: None,
        });
    }
    ledger.sign(&node, &[]);
    let verifier = ReceiptVerifier::new(&service.pem).expect("service certificate");

    let receipt = parse(&ledger.receipt(3));
    let lc = receipt.leaf_components().expect("components");
    assert!(lc.claims_digest.is_none());
    let verified = verifier
        .verify(&receipt, &VerifyOptions::new())
        .expect("verifies");
    assert_eq!(verified.claims_digest, None);
    // "No claims" holds for a receipt without a claims digest; any claim does not.
    let none = VerifyOptions::new().application_claims(Vec::new());
    assert!(verifier.verify(&receipt, &none).is_ok());
    let some = VerifyOptions::new()
        .application_claims(vec![ApplicationClaim::ledger_entry("a", "b", b"c")]);
    assert!(matches!(
        verifier.verify(&receipt, &some),
        Err(ReceiptError::ClaimsDigest { stated: None, .. })
    ));

    // The oldest shape: `leaf` and `root` instead of leaf components.
    let sig = ledger.signature_after(3).clone();
    let mut old = ledger.receipt(3);
    let obj = old.as_object_mut().expect("object");
    obj.remove("leafComponents");
    obj.insert("leaf".into(), json!(hex(&ledger.leaves[3])));
    obj.insert("root".into(), json!(hex(&sig.root)));
    let old_receipt = parse(&old);
    assert!(matches!(old_receipt.leaf, ReceiptLeaf::Digest(_)));
    let verified = verifier
        .verify(&old_receipt, &VerifyOptions::new())
        .expect("verifies");
    assert_eq!(verified.root.0, sig.root);
    assert_eq!(verified.transaction_id, None);
    let mut wrong_root = old.clone();
    wrong_root["root"] = json!(hex(&sha256(&[b"another root"])));
    assert!(matches!(
        verifier.verify(&parse(&wrong_root), &VerifyOptions::new()),
        Err(ReceiptError::Root { .. })
    ));
    // Both shapes at once is not a receipt.
    let mut both = ledger.receipt(3);
    both["leaf"] = json!(hex(&ledger.leaves[3]));
    assert!(serde_json::from_value::<Receipt>(both).is_err());
}

#[test]
fn receipts_of_a_recovered_service_verify_through_endorsements() {
    let r = recovered();
    let verifier = ReceiptVerifier::new(&r.current.pem).expect("service certificate");
    for (era, seqnos) in r.under.iter().enumerate() {
        for &seqno in seqnos {
            let receipt = parse(&r.ledger.receipt(seqno));
            assert_eq!(
                receipt.service_endorsements.as_ref().map_or(0, Vec::len),
                2 - era,
                "era {era}"
            );
            let tx = r.ledger.tx_id(seqno);
            verifier
                .verify(&receipt, &VerifyOptions::new().transaction_id(&tx))
                .unwrap_or_else(|e| panic!("era {era} {tx}: {e}"));
        }
        // And the signature transaction of the era.
        let sig_seqno = seqnos.last().expect("era has transactions") + 1;
        assert!(
            verifier
                .verify(&parse(&r.ledger.receipt(sig_seqno)), &VerifyOptions::new())
                .is_ok()
        );
    }

    let first_era = parse(&r.ledger.receipt(r.under[0][0]));
    // Without its endorsements the old node is not trusted.
    let mut bare = first_era.clone();
    bare.service_endorsements = None;
    assert!(matches!(
        verifier.verify(&bare, &VerifyOptions::new()),
        Err(ReceiptError::Endorsement {
            index: 0,
            subject: CertificateRole::Node,
            issuer: CertificateRole::Service
        })
    ));
    // Endorsements in the wrong order fail at the first link.
    let mut swapped = first_era.clone();
    if let Some(e) = swapped.service_endorsements.as_mut() {
        e.swap(0, 1);
    }
    assert!(matches!(
        verifier.verify(&swapped, &VerifyOptions::new()),
        Err(ReceiptError::Endorsement {
            index: 0,
            subject: CertificateRole::Node,
            issuer: CertificateRole::Endorsement(0)
        })
    ));
    // Missing the last endorsement fails at the link to the service certificate.
    let mut short = first_era.clone();
    if let Some(e) = short.service_endorsements.as_mut() {
        e.pop();
    }
    assert!(matches!(
        verifier.verify(&short, &VerifyOptions::new()),
        Err(ReceiptError::Endorsement {
            index: 1,
            subject: CertificateRole::Endorsement(0),
            issuer: CertificateRole::Service
        })
    ));
}

/// A receipt with a field replaced, as JSON.
fn with(v: &Value, pointer: &str, new: Value) -> Receipt {
    let mut v = v.clone();
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} exists")) = new;
    parse(&v)
}

#[test]
fn each_kind_of_damage_is_reported_by_its_step() {
    let f = fixture(Curve::P256, Curve::P256, 20, 20);
    let other_service = receipt_support::service(Curve::P256, "someone else");
    let other_node = receipt_support::node(Curve::P256, "someone else's node", &other_service);
    let verifier = ReceiptVerifier::new(&f.service.pem).expect("service certificate");
    let check = |r: &Receipt| verifier.verify(r, &VerifyOptions::new());
    let v = f.ledger.receipt(6);
    let receipt = parse(&v);
    assert!(check(&receipt).is_ok());
    let ce = receipt
        .leaf_components()
        .expect("components")
        .commit_evidence
        .clone();

    // Steps 1-3: leaf components, proof and signature.
    let zero = json!("0".repeat(64));
    assert!(matches!(
        check(&with(&v, "/leafComponents/writeSetDigest", zero.clone())),
        Err(ReceiptError::Signature { .. })
    ));
    assert!(matches!(
        check(&with(
            &v,
            "/leafComponents/claimsDigest",
            json!("1".repeat(64))
        )),
        Err(ReceiptError::Signature { .. })
    ));
    assert!(matches!(
        check(&with(&v, "/proof/0/right", zero.clone())),
        Err(ReceiptError::Signature { .. })
    ));
    let flipped = if ce.ends_with('0') {
        format!("{}1", &ce[..ce.len() - 1])
    } else {
        format!("{}0", &ce[..ce.len() - 1])
    };
    assert!(matches!(
        check(&with(&v, "/leafComponents/commitEvidence", json!(flipped))),
        Err(ReceiptError::Signature { .. })
    ));
    let other_sig = f.ledger.receipt(22)["signature"].clone();
    assert_ne!(other_sig, v["signature"]);
    assert!(matches!(
        check(&with(&v, "/signature", other_sig)),
        Err(ReceiptError::Signature { .. })
    ));
    // A proof step moved to the other side.
    let step = v["proof"][0]["right"].clone();
    assert!(matches!(
        check(&with(&v, "/proof/0", json!({"left": step}))),
        Err(ReceiptError::Signature { .. })
    ));
    // A proof step dropped or added.
    let mut short = receipt.clone();
    short.proof.pop();
    assert!(matches!(check(&short), Err(ReceiptError::Signature { .. })));
    let mut long = receipt.clone();
    long.proof.push(ProofStep::Left("0".repeat(64)));
    assert!(matches!(check(&long), Err(ReceiptError::Signature { .. })));

    // Malformed encodings name the field.
    let malformed = |r: Receipt, expected: &str| match check(&r) {
        Err(ReceiptError::Malformed { field, .. }) => assert_eq!(field, expected),
        other => panic!("{expected}: {other:?}"),
    };
    malformed(
        with(&v, "/leafComponents/writeSetDigest", json!("A".repeat(64))),
        "leafComponents.writeSetDigest",
    );
    malformed(
        with(&v, "/leafComponents/claimsDigest", json!("00")),
        "leafComponents.claimsDigest",
    );
    malformed(with(&v, "/proof/1/left", json!("zz")), "proof[1].left");
    malformed(with(&v, "/nodeId", json!("")), "nodeId");
    malformed(with(&v, "/signature", json!("not base64")), "signature");
    malformed(with(&v, "/signature", json!("AAAA")), "signature");

    // Step 4: node id.
    assert!(matches!(
        check(&with(&v, "/nodeId", json!(hex(&other_node.key.node_id())))),
        Err(ReceiptError::NodeId { .. })
    ));

    // Step 5: a node certificate the service did not issue, or an unusable one.
    assert!(matches!(
        check(&with(&v, "/cert", json!(other_node.pem))),
        Err(ReceiptError::Endorsement { index: 0, .. })
    ));
    assert!(matches!(
        check(&with(&v, "/cert", json!("garbage"))),
        Err(ReceiptError::Certificate {
            role: CertificateRole::Node,
            ..
        })
    ));
    let mut garbage = v.clone();
    garbage["serviceEndorsements"] = json!(["garbage"]);
    assert!(matches!(
        check(&parse(&garbage)),
        Err(ReceiptError::Certificate {
            role: CertificateRole::Endorsement(0),
            ..
        })
    ));

    // Step 6: commit evidence format and transaction id.
    assert!(matches!(
        check(&with(&v, "/leafComponents/commitEvidence", json!("ce:2.6"))),
        Err(ReceiptError::CommitEvidence { .. })
    ));
    let tx = f.ledger.tx_id(6);
    assert!(
        verifier
            .verify(&receipt, &VerifyOptions::new().transaction_id(&tx))
            .is_ok()
    );
    assert!(matches!(
        verifier.verify(&receipt, &VerifyOptions::new().transaction_id("2.7")),
        Err(ReceiptError::TransactionId { found: Some(ref t), .. }) if *t == tx
    ));
    assert!(matches!(
        verifier.verify(&receipt, &VerifyOptions::new().transaction_id("3.6")),
        Err(ReceiptError::TransactionId { .. })
    ));
    assert!(matches!(
        verifier.verify(&receipt, &VerifyOptions::new().transaction_id("six")),
        Err(ReceiptError::InvalidTransactionId(_))
    ));
    let sig_receipt = parse(&f.ledger.receipt(21));
    assert!(matches!(
        verifier.verify(&sig_receipt, &VerifyOptions::new().transaction_id("2.21")),
        Err(ReceiptError::TransactionId { found: None, .. })
    ));

    // A receipt of another ledger.
    let stranger = ReceiptVerifier::new(&other_service.pem).expect("service certificate");
    assert!(matches!(
        stranger.verify(&receipt, &VerifyOptions::new()),
        Err(ReceiptError::Endorsement { index: 0, .. })
    ));
}

#[test]
fn a_correctly_signed_receipt_with_malformed_commit_evidence_is_rejected() {
    let service = receipt_support::service(Curve::P256, "ce service");
    let node = receipt_support::node(Curve::P256, "ce node", &service);
    let mut ledger = receipt_support::Ledger::new(2);
    let bad = ["ce:2.1", "ce:2.01:", "2.1:00", "ce:2.1:ABCDEF"];
    for ce in bad {
        ledger.append_components(Components {
            write_set_digest: sha256(&[ce.as_bytes()]),
            commit_evidence: ce.to_owned(),
            claims_digest: Some([0; 32]),
            claims: None,
        });
    }
    ledger.sign(&node, &[]);
    for seqno in 1..=bad.len() {
        let receipt = parse(&ledger.receipt(seqno));
        assert!(
            matches!(
                verify(&receipt, &service.pem, &VerifyOptions::new()),
                Err(ReceiptError::CommitEvidence { .. })
            ),
            "{}",
            bad[seqno - 1]
        );
    }
}

#[test]
fn validity_is_checked_only_when_asked() {
    let service = receipt_support::service(Curve::P256, "validity service");
    // Node certificate valid from 2025-02-01 to 2025-03-01; service 2025-01-01 to 2025-04-01.
    let node = receipt_support::node_with_validity(
        Curve::P256,
        "validity node",
        &service,
        (2025, 2, 1),
        (2025, 3, 1),
    );
    let mut ledger = receipt_support::Ledger::new(2);
    ledger.append("x", None);
    ledger.sign(&node, &[]);
    let receipt = parse(&ledger.receipt(1));
    let day = |d: u64| UNIX_EPOCH + Duration::from_secs(1_735_689_600 + d * 86_400); // 2025-01-01 + d
    let at = |t| {
        verify(
            &receipt,
            &service.pem,
            &VerifyOptions::new().check_validity_at(t),
        )
    };
    assert!(
        verify(&receipt, &service.pem, &VerifyOptions::new()).is_ok(),
        "off by default"
    );
    assert!(at(day(45)).is_ok());
    assert!(matches!(
        at(day(10)),
        Err(ReceiptError::CertificateValidity {
            role: CertificateRole::Node,
            ..
        })
    ));
    assert!(matches!(
        at(day(70)),
        Err(ReceiptError::CertificateValidity {
            role: CertificateRole::Node,
            ..
        })
    ));
    assert!(matches!(
        at(day(400)),
        Err(ReceiptError::CertificateValidity { .. })
    ));
    // The cached chain keeps the validity periods.
    let verifier = ReceiptVerifier::new(&service.pem).expect("service certificate");
    assert!(verifier.verify(&receipt, &VerifyOptions::new()).is_ok());
    assert!(matches!(
        verifier.verify(&receipt, &VerifyOptions::new().check_validity_at(day(10))),
        Err(ReceiptError::CertificateValidity { .. })
    ));
}

#[test]
fn service_certificate_input_is_tolerant_but_must_be_a_certificate() {
    let f = fixture(Curve::P256, Curve::P256, 3, 3);
    let receipt = parse(&f.ledger.receipt(1));
    let ok = |pem: &str| verify(&receipt, pem, &VerifyOptions::new()).is_ok();
    assert!(ok(&f.service.pem));
    assert!(ok(&format!("{}\0", f.service.pem)));
    assert!(ok(&format!("{}\0\0\n", f.service.pem)));
    assert!(ok(&f.service.pem.replace('\n', "\r\n")));
    assert!(ok(&format!("  {}", f.service.pem.trim_end())));
    for bad in [
        "",
        "\0",
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    ] {
        assert!(matches!(
            verify(&receipt, bad, &VerifyOptions::new()),
            Err(ReceiptError::Certificate {
                role: CertificateRole::Service,
                ..
            })
        ));
    }
    let two = format!("{}{}", f.service.pem, f.service.pem);
    assert!(verify(&receipt, &two, &VerifyOptions::new()).is_err());
    assert!(verify(&receipt, [0xffu8, 0xfe], &VerifyOptions::new()).is_err());
}

//! Receipts verify with an independent verifier; identity rotation keeps old receipts
//! verifiable through service endorsements.

mod support;

use confidential_ledger_sandbox::{Sandbox, SandboxOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Client;
use support::verify::verify;

#[tokio::test]
async fn receipts_of_entries_governance_and_signatures_verify() {
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    let admin = Client::admin(&s);
    let service = s.service_certificate_pem();

    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(admin.write(&format!("entry {i}")).await);
    }
    let user = admin
        .patch(
            "/app/ledgerUsers/u1",
            json!({ "assignedRoles": ["Reader"] }),
        )
        .await;
    let gov_id = user.txid.unwrap();
    admin.wait_committed(&gov_id).await;

    for id in &ids {
        let r = admin.receipt(id).await;
        verify(&r, &service).unwrap_or_else(|e| panic!("{id}: {e}"));
        let claims = &r["applicationClaims"][0]["ledgerEntry"];
        assert_eq!(claims["collectionId"], "subledger:0");
        assert!(claims["contents"].as_str().unwrap().starts_with("entry "));
        assert!(r["receipt"].get("serviceEndorsements").is_none());
    }

    // A governance transaction has no application claims and a zero claims digest.
    let r = admin.receipt(&gov_id).await;
    verify(&r, &service).unwrap();
    assert!(r.get("applicationClaims").is_none());
    assert_eq!(
        r["receipt"]["leafComponents"]["claimsDigest"],
        "0".repeat(64)
    );

    // The signature transaction that committed the last write has a receipt of its own.
    let status = admin
        .get(&format!("/app/transactions/{gov_id}/status"))
        .await;
    let (view, seqno) = gov_id.split_once('.').unwrap();
    let mut sig = None;
    let latest: u64 = status
        .txid
        .unwrap()
        .split_once('.')
        .unwrap()
        .1
        .parse()
        .unwrap();
    for s_no in seqno.parse::<u64>().unwrap() + 1..=latest {
        let id = format!("{view}.{s_no}");
        let r = admin.receipt(&id).await;
        if r["receipt"].get("leaf").is_some() {
            sig = Some(r);
            break;
        }
    }
    let sig = sig.expect("a signature transaction after the write");
    assert_eq!(sig["receipt"]["proof"], json!([]));
    verify(&sig, &service).unwrap();

    // Tampering is detected.
    let good = admin.receipt(&ids[3]).await;
    let mut bad = good.clone();
    bad["applicationClaims"][0]["ledgerEntry"]["contents"] = Value::from("entry 99");
    assert!(verify(&bad, &service).is_err());
    let mut bad = good.clone();
    bad["receipt"]["leafComponents"]["writeSetDigest"] = Value::from("00".repeat(32));
    assert!(verify(&bad, &service).is_err());
    let mut bad = good.clone();
    bad["receipt"]["proof"][0] = json!({ "left": "11".repeat(32) });
    assert!(verify(&bad, &service).is_err());
    let mut bad = good.clone();
    bad["transactionId"] = Value::from(ids[4].clone());
    assert!(
        verify(&bad, &service).is_err(),
        "commit evidence names another transaction"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn rotation_endorses_old_identities() {
    let s = Sandbox::start(SandboxOptions::for_tests()).await.unwrap();
    let admin = Client::admin(&s);
    let first_service = s.service_certificate_pem();
    let before = admin.write("before rotation").await;
    admin.wait_committed(&before).await;
    let old_receipt = admin.receipt(&before).await;
    verify(&old_receipt, &first_service).unwrap();

    s.rotate_service_identity().await.unwrap();
    let second_service = s.service_certificate_pem();
    assert_ne!(first_service, second_service);
    assert_eq!(
        std::fs::read_to_string(s.service_certificate_path()).unwrap(),
        second_service,
        "the exported certificate follows the rotation"
    );

    // New connections present the new node certificate: clients pinned to the old service
    // certificate cannot connect any more.
    let stale = Client::new(
        &s.ledger_endpoint(),
        &first_service,
        Some((&s.admin_certificate_pem(), &s.admin_private_key_pem())),
    );
    let err = stale
        .http
        .get(stale.url("/app/collections"))
        .send()
        .await
        .expect_err("the old trust anchor no longer matches");
    assert!(err.is_connect() || err.is_request(), "{err:?}");

    let admin = Client::admin(&s);
    let after = admin.write("after rotation").await;
    admin.wait_committed(&after).await;
    let view = |id: &str| id.split_once('.').unwrap().0.parse::<u64>().unwrap();
    assert_eq!(
        view(&after),
        view(&before) + 1,
        "a rotation starts a new view"
    );

    // The old transaction's receipt now carries an endorsement and verifies against the new
    // service certificate; the signature and proof are unchanged.
    let old_again = admin.receipt(&before).await;
    assert_eq!(
        old_again["receipt"]["signature"],
        old_receipt["receipt"]["signature"]
    );
    assert_eq!(
        old_again["receipt"]["proof"],
        old_receipt["receipt"]["proof"]
    );
    assert_eq!(
        old_again["receipt"]["serviceEndorsements"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    verify(&old_again, &second_service).unwrap();
    assert!(
        verify(&old_receipt, &second_service).is_err(),
        "without the endorsement it cannot"
    );

    let new_receipt = admin.receipt(&after).await;
    assert!(new_receipt["receipt"].get("serviceEndorsements").is_none());
    verify(&new_receipt, &second_service).unwrap();
    assert_ne!(
        new_receipt["receipt"]["nodeId"],
        old_again["receipt"]["nodeId"]
    );

    // A second rotation: a chain of two endorsements.
    s.rotate_service_identity().await.unwrap();
    let third_service = s.service_certificate_pem();
    let admin = Client::admin(&s);
    let oldest = admin.receipt(&before).await;
    assert_eq!(
        oldest["receipt"]["serviceEndorsements"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    verify(&oldest, &third_service).unwrap();
    verify(&admin.receipt(&after).await, &third_service).unwrap();

    let identity = support::plain_http(&s)
        .get(format!(
            "{}/ledgerIdentity/{}",
            s.identity_endpoint(),
            s.ledger_id()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status(), StatusCode::OK);
    let body: Value = identity.json().await.unwrap();
    assert_eq!(body["ledgerTlsCertificate"], third_service.as_str());
    s.shutdown().await;
}

//! Receipts in the ledger API's JSON shape.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::ledger::ReceiptData;
use crate::merkle::ProofStep;

/// The `receipt` object of a receipt response.
pub(crate) fn receipt_contents(r: &ReceiptData) -> Value {
    let proof: Vec<Value> = r
        .proof
        .iter()
        .map(|step| match step {
            ProofStep::Left(h) => json!({ "left": hex::encode(h) }),
            ProofStep::Right(h) => json!({ "right": hex::encode(h) }),
        })
        .collect();
    let mut m = Map::new();
    m.insert("cert".into(), Value::String(r.node_cert_pem.clone()));
    if r.is_signature {
        m.insert("leaf".into(), Value::String(hex::encode(r.signed_root)));
    } else {
        m.insert(
            "leafComponents".into(),
            json!({
                "claimsDigest": hex::encode(r.claims_digest),
                "commitEvidence": r.commit_evidence,
                "writeSetDigest": hex::encode(r.write_set_digest),
            }),
        );
    }
    m.insert("nodeId".into(), Value::String(r.node_id.clone()));
    m.insert("proof".into(), Value::Array(proof));
    if !r.endorsements.is_empty() {
        m.insert(
            "serviceEndorsements".into(),
            Value::Array(r.endorsements.iter().cloned().map(Value::String).collect()),
        );
    }
    m.insert(
        "signature".into(),
        Value::String(STANDARD.encode(&r.signature)),
    );
    Value::Object(m)
}

/// The application claims of an entry's receipt (one `LedgerEntryV1` claim), if any.
pub(crate) fn application_claims(r: &ReceiptData) -> Option<Value> {
    let e = r.entry.as_ref()?;
    if e.claims_secret == crate::claims::NO_CLAIMS {
        return None;
    }
    Some(json!([{
        "kind": "LedgerEntry",
        "ledgerEntry": {
            "collectionId": e.collection,
            "contents": e.contents,
            "protocol": "LedgerEntryV1",
            "secretKey": STANDARD.encode(e.claims_secret),
        }
    }]))
}

/// A `Ready` receipt response body.
pub(crate) fn ready_body(r: &ReceiptData) -> Value {
    let mut body = Map::new();
    if let Some(claims) = application_claims(r) {
        body.insert("applicationClaims".into(), claims);
    }
    body.insert("receipt".into(), receipt_contents(r));
    body.insert("state".into(), Value::String("Ready".into()));
    body.insert("transactionId".into(), Value::String(r.id.to_string()));
    Value::Object(body)
}

/// The answer while a receipt is still being fetched from historical state. Ledgers on the
/// 2022-05-13 API answer `"receipt": null`; newer API versions (2024-08-22-preview recordings)
/// answer an empty receipt object. Either way the transaction id is empty.
pub(crate) fn loading_body(api_version: &str) -> Value {
    if api_version < "2024" {
        json!({ "receipt": null, "state": "Loading", "transactionId": "" })
    } else {
        json!({
            "receipt": { "nodeId": "", "proof": [], "signature": "" },
            "state": "Loading",
            "transactionId": ""
        })
    }
}

//! A small receipt verifier written for the tests, independent of the sandbox's code: leaf
//! from its components, root from the proof, ECDSA (prehash) with the node certificate's key,
//! node id, endorsement chain to the service certificate, application claims.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::{DecodePem, Encode};
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

fn sha(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().into()
}

fn unhex(s: &Value) -> Result<Vec<u8>, String> {
    hex::decode(s.as_str().ok_or("expected a hex string")?).map_err(|e| e.to_string())
}

fn key_of(cert: &Certificate) -> Result<VerifyingKey, String> {
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| e.to_string())?;
    VerifyingKey::from_public_key_der(&spki).map_err(|e| e.to_string())
}

fn parse(pem: &str) -> Result<Certificate, String> {
    Certificate::from_pem(pem.trim_end_matches('\0')).map_err(|e| e.to_string())
}

/// `child` is signed (ecdsa-with-SHA256) by `parent`'s key.
fn signed_by(child: &Certificate, parent: &Certificate) -> Result<(), String> {
    let tbs = child
        .tbs_certificate()
        .to_der()
        .map_err(|e| e.to_string())?;
    let sig = Signature::from_der(child.signature().raw_bytes()).map_err(|e| e.to_string())?;
    key_of(parent)?
        .verify_prehash(&sha(&[&tbs]), &sig)
        .map_err(|_| "certificate signature does not verify".to_string())
}

/// The claims digest of `LedgerEntry` application claims.
pub fn claims_digest(claims: &Value) -> Result<[u8; 32], String> {
    let list = claims.as_array().ok_or("claims must be an array")?;
    let mut digests = Vec::new();
    for c in list {
        let e = &c["ledgerEntry"];
        assert_eq!(c["kind"], "LedgerEntry");
        assert_eq!(e["protocol"], "LedgerEntryV1");
        let key = STANDARD
            .decode(e["secretKey"].as_str().ok_or("secretKey")?)
            .map_err(|e| e.to_string())?;
        let inner = sha(&[
            &hmac(
                &key,
                e["collectionId"].as_str().ok_or("collectionId")?.as_bytes(),
            ),
            &hmac(&key, e["contents"].as_str().ok_or("contents")?.as_bytes()),
        ]);
        digests.push(sha(&[b"LedgerEntryV1", &inner]));
    }
    let mut h = Sha256::new();
    h.update((digests.len() as u32).to_le_bytes());
    for d in digests {
        h.update(d);
    }
    Ok(h.finalize().into())
}

/// Verifies a receipt response (`{receipt, transactionId, applicationClaims?}`) against the
/// service certificate.
pub fn verify(response: &Value, service_pem: &str) -> Result<(), String> {
    let r = &response["receipt"];
    let id = response["transactionId"].as_str().ok_or("transactionId")?;
    let leaf = if let Some(lc) = r.get("leafComponents") {
        let ce = lc["commitEvidence"].as_str().ok_or("commitEvidence")?;
        let mut parts = ce.splitn(3, ':');
        let (tag, ce_id, nonce) = (parts.next(), parts.next(), parts.next());
        if tag != Some("ce") || ce_id != Some(id) || nonce.is_none_or(|n| n.len() != 64) {
            return Err(format!("commit evidence {ce} does not match {id}"));
        }
        let claims = unhex(&lc["claimsDigest"])?;
        if let Some(app) = response.get("applicationClaims")
            && claims_digest(app)?.as_slice() != claims.as_slice()
        {
            return Err("application claims do not match the claims digest".into());
        }
        sha(&[
            &unhex(&lc["writeSetDigest"])?,
            &sha(&[ce.as_bytes()]),
            &claims,
        ])
    } else {
        unhex(&r["leaf"])?.try_into().map_err(|_| "leaf")?
    };
    let mut cur = leaf;
    for step in r["proof"].as_array().ok_or("proof")? {
        cur = match (step.get("left"), step.get("right")) {
            (Some(l), None) => sha(&[&unhex(l)?, &cur]),
            (None, Some(rh)) => sha(&[&cur, &unhex(rh)?]),
            _ => return Err("proof element needs exactly one of left/right".into()),
        };
    }
    let node = parse(r["cert"].as_str().ok_or("cert")?)?;
    let sig = STANDARD
        .decode(r["signature"].as_str().ok_or("signature")?)
        .map_err(|e| e.to_string())?;
    let sig = Signature::from_der(&sig).map_err(|e| e.to_string())?;
    key_of(&node)?
        .verify_prehash(&cur, &sig)
        .map_err(|_| "the signature over the root does not verify".to_string())?;
    if let Some(node_id) = r.get("nodeId").and_then(Value::as_str) {
        let spki = node
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| e.to_string())?;
        if hex::encode(sha(&[&spki])) != node_id {
            return Err("nodeId is not the hash of the node key".into());
        }
    }
    let mut chain = vec![node];
    if let Some(list) = r.get("serviceEndorsements").and_then(Value::as_array) {
        for e in list {
            chain.push(parse(e.as_str().ok_or("endorsement")?)?);
        }
    }
    chain.push(parse(service_pem)?);
    for pair in chain.windows(2) {
        signed_by(&pair[0], &pair[1])?;
    }
    Ok(())
}
